<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AppOptions</name>
    <message>
        <location filename="../../app/app_options.cpp" line="52"/>
        <source>JetChat: an offline LLM assistant. Qt options such as --platform are accepted too.</source>
        <translation>JetChat：离线大语言模型助手。也接受 --platform 等 Qt 选项。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="57"/>
        <source>Full screen, no way out from the UI.</source>
        <translation>全屏，界面内无法退出。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="58"/>
        <source>Model folder to load.</source>
        <translation>要加载的模型文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="61"/>
        <source>Another folder of models (repeatable).</source>
        <translation>另一个模型文件夹（可重复指定）。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="63"/>
        <source>UI language: en or zh_CN.</source>
        <translation>界面语言：en 或 zh_CN。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="66"/>
        <source>Global UI scale factor, e.g. 1.5.</source>
        <translation>界面整体缩放比例，例如 1.5。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="69"/>
        <source>Settings file to use instead of the default.</source>
        <translation>使用此设置文件代替默认设置。</translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="73"/>
        <source>Check the installation and exit: load the UI (offscreen unless --platform is given) and the model, stream a short reply, print one line per step; exit status 0 when every step passed. Settings and conversations are left untouched.</source>
        <translation>检查安装后退出：加载界面（未指定 --platform 时在屏幕外渲染）和模型，流式生成一段简短回复，每一步输出一行；所有步骤通过时退出状态为 0。设置和对话不受影响。</translation>
    </message>
</context>
<context>
    <name>Banner</name>
    <message>
        <location filename="../../qml/JetChat/Banner.qml" line="32"/>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <location filename="../../app/chat_controller.cpp" line="224"/>
        <source>Freed %1 (%2 by the engine); process memory %3 → %4.</source>
        <translation>已释放 %1（引擎占用 %2）；进程内存 %3 → %4。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/chat_controller.cpp" line="283"/>
        <source>%n token(s)</source>
        <translation>
            <numerusform>%n 个词元</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/chat_controller.cpp" line="284"/>
        <source>%1 tok/s</source>
        <translation>%1 词元/秒</translation>
    </message>
    <message>
        <location filename="../../app/chat_controller.cpp" line="285"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="25"/>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="33"/>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="33"/>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="34"/>
        <source>Ask me anything…</source>
        <translation>有什么问题都可以问我…</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="34"/>
        <source>Choose a model to start</source>
        <translation>请先选择一个模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="59"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="59"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <location filename="../../app/conversation_store.cpp" line="44"/>
        <source>not a conversation store</source>
        <translation>不是对话存储文件</translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="46"/>
        <source>written by a newer version</source>
        <translation>由更新的版本写入</translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="52"/>
        <source>The saved conversations could not be read (%1) and were moved to %2.</source>
        <translation>无法读取已保存的对话（%1），文件已移至 %2。</translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="53"/>
        <source>The saved conversations could not be read (%1).</source>
        <translation>无法读取已保存的对话（%1）。</translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="133"/>
        <location filename="../../app/conversation_store.cpp" line="140"/>
        <source>Cannot save conversations to %1: %2</source>
        <translation>无法将对话保存到 %1：%2</translation>
    </message>
</context>
<context>
    <name>EngineWorker</name>
    <message>
        <location filename="../../app/engine_worker.cpp" line="48"/>
        <location filename="../../app/engine_worker.cpp" line="93"/>
        <source>Loading was cancelled.</source>
        <translation>已取消加载。</translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="53"/>
        <source>Cannot use %1: %2</source>
        <translation>无法使用 %1：%2</translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="65"/>
        <source>%1 needs %2 at a context of %3 tokens, but only %4 is available.</source>
        <translation>%1 在 %3 个词元的上下文下需要 %2，但只有 %4 可用。</translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="94"/>
        <source>Cannot load %1: %2</source>
        <translation>无法加载 %1：%2</translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="150"/>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
</context>
<context>
    <name>GaugePanel</name>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="97"/>
        <source>built-in demo — load a real model for real answers</source>
        <translation>内置演示模型 — 加载真实模型以获得真正的回答</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="33"/>
        <source>Memory in use (shared with the GPU)</source>
        <translation>已用内存（与 GPU 共享）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="33"/>
        <source>System memory in use</source>
        <translation>系统内存占用</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="36"/>
        <source>Available: %1</source>
        <translation>可用：%1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="42"/>
        <source>GPU memory in use</source>
        <translation>显存占用</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="49"/>
        <source>This app</source>
        <translation>本应用</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="51"/>
        <source>Model and cache: %1</source>
        <translation>模型与缓存：%1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="56"/>
        <source>Generating (tokens/s)</source>
        <translation>生成中（词元/秒）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="56"/>
        <source>Last reply (tokens/s)</source>
        <translation>上次回复（词元/秒）</translation>
    </message>
    <message numerus="yes">
        <location filename="../../qml/JetChat/GaugePanel.qml" line="58"/>
        <source>%n token(s) so far</source>
        <translation>
            <numerusform>已生成 %n 个词元</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="59"/>
        <source>Prompt: %1 tok/s</source>
        <translation>提示处理：%1 词元/秒</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="64"/>
        <source>Time to first token</source>
        <translation>首个词元延迟</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="65"/>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="79"/>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="70"/>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="78"/>
        <source>Network latency</source>
        <translation>网络延迟</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="80"/>
        <source>request sent → first answer from the server</source>
        <translation>从发出请求到服务器首次应答</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="86"/>
        <source>GPU load</source>
        <translation>GPU 负载</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="93"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="94"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="98"/>
        <source>%1 on %2</source>
        <translation>%1，运行于 %2</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="19"/>
        <source>Conversations</source>
        <translation>对话记录</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="37"/>
        <source>(untitled)</source>
        <translation>（无标题）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="41"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>KioskKeyboard</name>
    <message>
        <location filename="../../qml/JetChat/KioskKeyboard.qml" line="31"/>
        <source>Pinyin input is not part of this Qt build: the keyboard types English letters.</source>
        <translation>当前 Qt 版本不含拼音输入：键盘只能输入英文字母。</translation>
    </message>
</context>
<context>
    <name>LoadOverlay</name>
    <message>
        <location filename="../../qml/JetChat/LoadOverlay.qml" line="24"/>
        <source>Loading %1</source>
        <translation>正在加载 %1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/LoadOverlay.qml" line="42"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <location filename="../../qml/JetChat/Main.qml" line="17"/>
        <source>JetChat</source>
        <translation>JetChat</translation>
    </message>
</context>
<context>
    <name>MessageBubble</name>
    <message>
        <location filename="../../qml/JetChat/MessageBubble.qml" line="118"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/MessageBubble.qml" line="127"/>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
</context>
<context>
    <name>ModelCard</name>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="75"/>
        <source>Remote server · %1</source>
        <translation>远程服务器 · %1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="66"/>
        <source>built-in demo — load a real model for real answers</source>
        <translation>内置演示模型 — 加载真实模型以获得真正的回答</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="49"/>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="55"/>
        <source>Unusable</source>
        <translation>无法使用</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="55"/>
        <source>Active</source>
        <translation>使用中</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="56"/>
        <source>Does not fit</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="76"/>
        <source>%1 · %2 parameters · %3</source>
        <translation>%1 · %2 参数 · %3</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="84"/>
        <source>Needs %1 at %2 tokens of context; %3 available</source>
        <translation>%2 词元上下文需要 %1；可用 %3</translation>
    </message>
</context>
<context>
    <name>ModelSwitcher</name>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="31"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="42"/>
        <source>Add server…</source>
        <translation>添加服务器…</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="47"/>
        <source>Unload</source>
        <translation>卸载</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="53"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="60"/>
        <source>Free memory: %1 (plus %2 from the current model)</source>
        <translation>空闲内存：%1（另加当前模型的 %2）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="88"/>
        <source>%1 cannot be used: %2</source>
        <translation>%1 无法使用：%2</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="90"/>
        <source>%1 needs %2 but only %3 is available.</source>
        <translation>%1 需要 %2，但只有 %3 可用。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="105"/>
        <source>No models found in:
%1</source>
        <translation>在以下位置未找到模型：
%1</translation>
    </message>
</context>
<context>
    <name>PinDialog</name>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="40"/>
        <source>Enter the PIN</source>
        <translation>请输入 PIN 码</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="52"/>
        <source>Wrong PIN</source>
        <translation>PIN 码错误</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="73"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>RemoteEndpointDialog</name>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="51"/>
        <source>Edit server</source>
        <translation>编辑服务器</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="51"/>
        <source>Add a server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="57"/>
        <source>Any OpenAI-compatible server: another JetChat, LMDeploy, vLLM, llama.cpp&apos;s server, Ollama.</source>
        <translation>任何兼容 OpenAI 接口的服务器：另一台 JetChat、LMDeploy、vLLM、llama.cpp 服务器、Ollama。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="62"/>
        <source>Name, e.g. Lab GPU server</source>
        <translation>名称，例如：实验室 GPU 服务器</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="72"/>
        <source>Model id, e.g. internlm2-chat-7b</source>
        <translation>模型 ID，例如 internlm2-chat-7b</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="80"/>
        <source>API key (unchanged)</source>
        <translation>API 密钥（保持不变）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="80"/>
        <source>API key (none)</source>
        <translation>API 密钥（无）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="94"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="102"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/RemoteEndpointDialog.qml" line="105"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
</context>
<context>
    <name>RemoteEndpoints</name>
    <message>
        <location filename="../../app/remote_endpoints.cpp" line="19"/>
        <source>Give the server a name.</source>
        <translation>请为服务器命名。</translation>
    </message>
    <message>
        <location filename="../../app/remote_endpoints.cpp" line="23"/>
        <source>The address must look like http://host:port/v1.</source>
        <translation>地址格式应为 http://主机:端口/v1。</translation>
    </message>
    <message>
        <location filename="../../app/remote_endpoints.cpp" line="25"/>
        <source>Name the model the server serves (its id in GET /v1/models).</source>
        <translation>请填写服务器提供的模型（即 GET /v1/models 中的 id）。</translation>
    </message>
    <message>
        <location filename="../../app/remote_endpoints.cpp" line="36"/>
        <source>Another server is already called &quot;%1&quot;.</source>
        <translation>已有名为“%1”的服务器。</translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="37"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="41"/>
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="42"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="45"/>
        <source>System prompt (empty: the model&apos;s default)</source>
        <translation>系统提示词（留空则使用模型默认值）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="56"/>
        <source>Temperature: %1 (0 = always the most likely word)</source>
        <translation>温度：%1（0 = 总是选择最可能的词）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="63"/>
        <source>Top-p: %1</source>
        <translation>Top-p：%1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="70"/>
        <source>Longest reply (tokens)</source>
        <translation>最长回复（词元）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="76"/>
        <source>Context length (tokens; applies when a model loads)</source>
        <translation>上下文长度（词元；加载模型时生效）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="85"/>
        <source>Reload model</source>
        <translation>重新加载模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="92"/>
        <source>Memory saver</source>
        <translation>省内存模式</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="98"/>
        <source>int8 KV cache (and an 8-bit output head where that is smaller): less memory per token of context; applies when a model loads</source>
        <translation>int8 KV 缓存（若更省内存，另用 8 位输出层）：每个上下文词元占用更少内存；加载模型时生效</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="104"/>
        <source>Reset sampling to defaults</source>
        <translation>恢复默认采样设置</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="108"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="117"/>
        <source>Text size: %1×</source>
        <translation>文字大小：%1×</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="126"/>
        <source>Kiosk</source>
        <translation>展台模式</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="129"/>
        <source>Kiosk mode (full screen, settings behind a PIN)</source>
        <translation>展台模式（全屏，设置需 PIN 码）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="134"/>
        <source>Back to the welcome screen after (minutes)</source>
        <translation>无操作后返回欢迎界面（分钟）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="142"/>
        <source>Settings PIN</source>
        <translation>设置 PIN 码</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="150"/>
        <source>API for other programs on this robot (OpenAI-compatible)</source>
        <translation>供本机器人其他程序使用的 API（兼容 OpenAI）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="153"/>
        <source>Serve the loaded model over HTTP</source>
        <translation>通过 HTTP 提供已加载的模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="158"/>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="167"/>
        <source>Reachable from other machines (else this one only)</source>
        <translation>允许其他机器访问（否则仅限本机）</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="172"/>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="177"/>
        <source>none: anyone who can connect may use it</source>
        <translation>无：任何能连接的人都可以使用</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="185"/>
        <source>Not serving: %1</source>
        <translation>未提供服务：%1</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="186"/>
        <source>Serving the loaded model at %1</source>
        <translation>已在 %1 提供已加载的模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="187"/>
        <source>Starts when a model on this machine is loaded.</source>
        <translation>本机加载模型后启动。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="194"/>
        <source>JetChat %1</source>
        <translation>JetChat %1</translation>
    </message>
</context>
<context>
    <name>TopBar</name>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="47"/>
        <source>built-in demo — load a real model for real answers</source>
        <translation>内置演示模型 — 加载真实模型以获得真正的回答</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="26"/>
        <source>JetChat</source>
        <translation>JetChat</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="43"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="48"/>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="51"/>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="57"/>
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="63"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="70"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
</context>
<context>
    <name>UiLanguage</name>
    <message>
        <location filename="../../app/ui_language.cpp" line="16"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>WelcomeScreen</name>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="16"/>
        <source>What can you do?</source>
        <translation>你能做什么？</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="17"/>
        <source>Tell me a short story about a robot.</source>
        <translation>给我讲一个关于机器人的小故事。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="18"/>
        <source>Explain how a battery works, simply.</source>
        <translation>简单解释一下电池是怎么工作的。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="19"/>
        <source>Write a Python function that reverses a string.</source>
        <translation>写一个反转字符串的 Python 函数。</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="31"/>
        <source>Hello! How can I help?</source>
        <translation>你好！有什么可以帮你？</translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="39"/>
        <source>I run entirely on this device. Type a question or tap one below.</source>
        <translation>我完全在这台设备上运行。输入问题，或点击下面的问题。</translation>
    </message>
</context>
</TS>
