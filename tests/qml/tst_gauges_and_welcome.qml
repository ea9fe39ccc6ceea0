import QtQuick
import QtTest
import JetChat
import JetChat.Core
import JetChat.Testing

// TestCase is not itself visible: components under test are created in this root item.
Item {
    id: root
    width: 1000
    height: 800

    TestCase {
        id: test
        name: "GaugesAndWelcome"
        when: windowShown

        Component {
            id: panelComponent
            GaugePanel { width: 280; height: 700; app: TestApp }
        }
        Component {
            id: welcomeComponent
            WelcomeScreen { width: 800; height: 600; ready: true }
        }
        SignalSpy { id: picked; signalName: "suggestionPicked" }

        function initTestCase() {
            if (TestApp.controller.state !== ChatController.Ready) TestApp.controller.switchModel("/fake/small")
            tryCompare(TestApp.controller, "state", ChatController.Ready, 5000)
        }

        function test_gaugesFollowAReply() {
            const panel = createTemporaryObject(panelComponent, root)
            const decode = findChild(panel, "decodeGauge")
            const model = findChild(panel, "modelGauge")
            const memory = findChild(panel, "memoryGauge")
            compare(model.valueText, "small")
            verify(model.detail.indexOf("fake") >= 0)
            verify(memory.fraction > 0 && memory.fraction < 1)
            verify(TestApp.controller.send("count to eighty"))
            tryVerify(() => decode.caption.indexOf("Generating") === 0)
            tryVerify(() => TestApp.controller.generatedTokens > 0, 3000)
            tryCompare(TestApp.controller, "state", ChatController.Ready, 5000)
            verify(decode.caption.indexOf("Last reply") === 0)
            verify(Number(decode.valueText) > 0, decode.valueText)
            verify(findChild(panel, "contextGauge").fraction > 0)
        }

        function cleanup() {
            TestApp.language.language = "en"
        }

        function test_simplifiedChineseAndBack() {
            const welcome = createTemporaryObject(welcomeComponent, root)
            const title = findChild(welcome, "welcomeTitle")
            compare(title.text, "Hello! How can I help?")
            TestApp.language.language = "zh_CN"
            compare(TestApp.language.effective, "zh_CN")
            tryCompare(title, "text", "你好！有什么可以帮你？")
            compare(welcome.suggestions[0], "你能做什么？")
            TestApp.language.language = "en"
            tryCompare(title, "text", "Hello! How can I help?")
        }

        function test_suggestionsSendTheirText() {
            const welcome = createTemporaryObject(welcomeComponent, root)
            picked.target = welcome
            picked.clear()
            const button = findChild(welcome, "suggestion1")
            verify(button && button.visible)
            mouseClick(button)
            tryCompare(picked, "count", 1)
            compare(picked.signalArguments[0][0], welcome.suggestions[1])
        }
    }
}
