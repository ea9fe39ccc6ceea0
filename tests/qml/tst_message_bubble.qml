import QtQuick
import QtTest
import JetChat
import JetChat.Core

// TestCase is not itself visible: components under test are created in this root item.
Item {
    id: root
    width: 900
    height: 600

    TestCase {
        id: test
        name: "MessageBubble"
        when: windowShown

        Component {
            id: listComponent
            Column {
                property alias conversation: conv
                width: 800
                ConversationModel { id: conv }
                Repeater {
                    model: conv
                    delegate: MessageBubble {
                        width: 800
                        isLast: index === conv.count - 1
                    }
                }
            }
        }

        // The bubbles in message order.
        function bubbles(view) {
            const out = []
            for (let i = 0; i < view.children.length; ++i)
                if (view.children[i].author !== undefined) out.push(view.children[i])
            return out.sort((a, b) => a.index - b.index)
        }

        function test_streamingThenBlocks() {
            const view = createTemporaryObject(listComponent, root)
            const conv = view.conversation
            conv.appendUser("Show me code")
            conv.beginAssistant()
            conv.appendChunk("Here it is:\n\n```python\nprint('hi')")
            const tail = findChild(bubbles(view)[1], "streamingTail")
            verify(tail && tail.visible)
            verify(tail.text.indexOf("print('hi')") >= 0, "the open code block is the plain-text tail")
            verify(tail.text.endsWith("▍"))
            compare(findChild(view, "copyCodeButton"), null)

            conv.appendChunk("\n```\nDone.")
            conv.finishAssistant("7 tokens")
            tryVerify(() => findChild(view, "copyCodeButton") !== null)
            const copy = findChild(view, "copyCodeButton")
            verify(copy.visible)
            mouseClick(copy)
            compare(Clipboard.text(), "print('hi')")
            compare(copy.text, "Copied")
        }

        function test_regenerateOnlyOnTheLastReply() {
            const view = createTemporaryObject(listComponent, root)
            const conv = view.conversation
            conv.appendUser("q1")
            conv.beginAssistant()
            conv.appendChunk("a1")
            conv.finishAssistant("")
            conv.appendUser("q2")
            conv.beginAssistant()
            conv.appendChunk("a2")
            conv.finishAssistant("")
            const all = bubbles(view)
            compare(all.length, 4)
            compare(findChild(all[1], "regenerateButton").visible, false)
            compare(findChild(all[3], "regenerateButton").visible, true)
        }
    }
}
