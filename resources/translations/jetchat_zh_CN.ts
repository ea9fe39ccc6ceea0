<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AppOptions</name>
    <message>
        <location filename="../../app/app_options.cpp" line="37"/>
        <source>JetChat: an offline LLM assistant. Qt options such as --platform are accepted too.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="42"/>
        <source>Full screen, no way out from the UI.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="43"/>
        <source>Model folder to load.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="46"/>
        <source>Another folder of models (repeatable).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="48"/>
        <source>UI language: en or zh_CN.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="51"/>
        <source>Global UI scale factor, e.g. 1.5.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/app_options.cpp" line="54"/>
        <source>Settings file to use instead of the default.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Banner</name>
    <message>
        <location filename="../../qml/JetChat/Banner.qml" line="32"/>
        <source>Dismiss</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <location filename="../../app/chat_controller.cpp" line="203"/>
        <source>Freed %1 (%2 by the engine); process memory %3 → %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/chat_controller.cpp" line="260"/>
        <source>%n token(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/chat_controller.cpp" line="261"/>
        <source>%1 tok/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/chat_controller.cpp" line="262"/>
        <source>stopped</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="25"/>
        <source>code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="33"/>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/CodeBlock.qml" line="33"/>
        <source>Copy code</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="34"/>
        <source>Ask me anything…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="34"/>
        <source>Choose a model to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="59"/>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/Composer.qml" line="59"/>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <location filename="../../app/conversation_store.cpp" line="44"/>
        <source>not a conversation store</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="46"/>
        <source>written by a newer version</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="52"/>
        <source>The saved conversations could not be read (%1) and were moved to %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="53"/>
        <source>The saved conversations could not be read (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/conversation_store.cpp" line="133"/>
        <location filename="../../app/conversation_store.cpp" line="140"/>
        <source>Cannot save conversations to %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EngineWorker</name>
    <message>
        <location filename="../../app/engine_worker.cpp" line="46"/>
        <location filename="../../app/engine_worker.cpp" line="88"/>
        <source>Loading was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="51"/>
        <source>Cannot use %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="62"/>
        <source>%1 needs %2 at a context of %3 tokens, but only %4 is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="89"/>
        <source>Cannot load %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../app/engine_worker.cpp" line="140"/>
        <source>No model is loaded.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GaugePanel</name>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="33"/>
        <source>Memory in use (shared with the GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="36"/>
        <source>Available: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="41"/>
        <source>This app</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="43"/>
        <source>Model and cache: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="48"/>
        <source>Generating (tokens/s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="48"/>
        <source>Last reply (tokens/s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../../qml/JetChat/GaugePanel.qml" line="50"/>
        <source>%n token(s) so far</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="51"/>
        <source>Prompt: %1 tok/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="56"/>
        <source>Time to first token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="57"/>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="62"/>
        <source>Context used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="70"/>
        <source>GPU load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="77"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="78"/>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/GaugePanel.qml" line="80"/>
        <source>%1 on %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="19"/>
        <source>Conversations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="37"/>
        <source>(untitled)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/HistoryPanel.qml" line="41"/>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LoadOverlay</name>
    <message>
        <location filename="../../qml/JetChat/LoadOverlay.qml" line="24"/>
        <source>Loading %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/LoadOverlay.qml" line="42"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <location filename="../../qml/JetChat/Main.qml" line="17"/>
        <source>JetChat</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MessageBubble</name>
    <message>
        <location filename="../../qml/JetChat/MessageBubble.qml" line="117"/>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/MessageBubble.qml" line="126"/>
        <source>Regenerate</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelCard</name>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="44"/>
        <source>Unusable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="44"/>
        <source>Active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="45"/>
        <source>Does not fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="54"/>
        <source>%1 · %2 parameters · %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelCard.qml" line="62"/>
        <source>Needs %1 at %2 tokens of context; %3 available</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelSwitcher</name>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="31"/>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="41"/>
        <source>Unload</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="47"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="54"/>
        <source>Free memory: %1 (plus %2 from the current model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="81"/>
        <source>%1 cannot be used: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="83"/>
        <source>%1 needs %2 but only %3 is available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/ModelSwitcher.qml" line="98"/>
        <source>No models found in:
%1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PinDialog</name>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="40"/>
        <source>Enter the PIN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="52"/>
        <source>Wrong PIN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/PinDialog.qml" line="73"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="37"/>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="41"/>
        <source>Models…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="42"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="45"/>
        <source>System prompt (empty: the model&apos;s default)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="56"/>
        <source>Temperature: %1 (0 = always the most likely word)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="63"/>
        <source>Top-p: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="70"/>
        <source>Longest reply (tokens)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="76"/>
        <source>Context length (tokens; applies when a model loads)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="85"/>
        <source>Reload model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="91"/>
        <source>Reset sampling to defaults</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="95"/>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="104"/>
        <source>Text size: %1×</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="113"/>
        <source>Kiosk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="116"/>
        <source>Kiosk mode (full screen, settings behind a PIN)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="121"/>
        <source>Back to the welcome screen after (minutes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="129"/>
        <source>Settings PIN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/SettingsPanel.qml" line="139"/>
        <source>JetChat %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TopBar</name>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="26"/>
        <source>JetChat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="43"/>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="46"/>
        <source>No model loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="49"/>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="55"/>
        <source>History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="61"/>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/TopBar.qml" line="68"/>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>UiLanguage</name>
    <message>
        <location filename="../../app/ui_language.cpp" line="16"/>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>WelcomeScreen</name>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="16"/>
        <source>What can you do?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="17"/>
        <source>Tell me a short story about a robot.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="18"/>
        <source>Explain how a battery works, simply.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="19"/>
        <source>Write a Python function that reverses a string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="30"/>
        <source>Hello! How can I help?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../qml/JetChat/WelcomeScreen.qml" line="38"/>
        <source>I run entirely on this device. Type a question or tap one below.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
