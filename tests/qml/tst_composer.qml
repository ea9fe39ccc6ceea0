import QtQuick
import QtTest
import JetChat
import JetChat.Core
import JetChat.Testing

// TestCase is not itself visible: components under test are created in this root item.
Item {
    id: root
    width: 800
    height: 200

    TestCase {
        id: test
        name: "Composer"
        when: windowShown

        Component {
            id: composerComponent
            Composer {
                width: 600
                controller: TestApp.controller
            }
        }

        function initTestCase() {
            TestApp.controller.switchModel("/fake/small")
            tryCompare(TestApp.controller, "state", ChatController.Ready, 5000)
        }

        function test_sendStopAndReady() {
            const composer = createTemporaryObject(composerComponent, root)
            const input = findChild(composer, "composerInput")
            const button = findChild(composer, "sendButton")
            verify(input && button)
            compare(button.enabled, false, "nothing to send yet")
            const before = TestApp.controller.conversation.count
            input.forceActiveFocus()
            keyClick(Qt.Key_H)
            keyClick(Qt.Key_I)
            compare(input.text, "hi")
            verify(button.enabled)
            keyClick(Qt.Key_Return)
            compare(input.text, "", "sent and cleared")
            compare(TestApp.controller.state, ChatController.Generating)
            compare(button.text, "Stop")
            compare(TestApp.controller.conversation.count, before + 2)
            mouseClick(button)
            verify(TestApp.controller.state === ChatController.Stopping
                   || TestApp.controller.state === ChatController.Ready)
            tryCompare(TestApp.controller, "state", ChatController.Ready, 5000)
            compare(button.text, "Send")
        }

        function test_shiftEnterIsANewLine() {
            const composer = createTemporaryObject(composerComponent, root)
            const input = findChild(composer, "composerInput")
            input.forceActiveFocus()
            keyClick(Qt.Key_A)
            keyClick(Qt.Key_Return, Qt.ShiftModifier)
            keyClick(Qt.Key_B)
            compare(input.text, "a\nb")
            compare(TestApp.controller.state, ChatController.Ready)
        }
    }
}
