import QtQuick
import QtTest
import JetChat

// TestCase is not itself visible: components under test are created in this root item.
Item {
    id: root
    width: 600
    height: 300

    TestCase {
        id: test
        name: "ModelCard"
        when: windowShown

        Component {
            id: cardComponent
            ModelCard {
                width: 500
                name: "internlm2-chat-7b"
                path: "/models/internlm2-chat-7b"
                architecture: "InternLM2ForCausalLM"
                dtype: "awq-w4g128"
                parameters: 7.7e9
                bytesNeeded: 5.5 * 1024 * 1024 * 1024
                context: 4096
                error: ""
                builtIn: false
            }
        }

        function labelTexts(item) {
            let out = []
            const visit = (node) => {
                if (node.text !== undefined && node.visible) out.push(String(node.text))
                for (let i = 0; i < node.children.length; ++i) visit(node.children[i])
            }
            visit(item.contentItem)
            return out.join("|")
        }

        function test_fitsOrNot() {
            const card = createTemporaryObject(cardComponent, root, {available: 8 * 1024 * 1024 * 1024})
            verify(card.fits)
            verify(labelTexts(card).indexOf("Needs 5.50 GiB at 4096 tokens") >= 0, labelTexts(card))
            verify(labelTexts(card).indexOf("7.7 B parameters") >= 0)
            card.available = 4 * 1024 * 1024 * 1024
            verify(!card.fits)
            verify(labelTexts(card).indexOf("Does not fit") >= 0)
        }

        function test_builtIn() {
            const real = createTemporaryObject(cardComponent, root, {available: 1e12})
            verify(labelTexts(real).indexOf("built-in demo") < 0)
            const demo = createTemporaryObject(cardComponent, root, {available: 1e12, builtIn: true, name: "jetchat-demo"})
            verify(labelTexts(demo).indexOf("built-in demo — load a real model for real answers") >= 0, labelTexts(demo))
        }

        function test_remote() {
            const card = createTemporaryObject(cardComponent, root, {available: 0, architecture: "remote",
                                                                     dtype: "internlm2 @ 10.0.0.5:8080", bytesNeeded: 0})
            verify(card.fits)
            verify(labelTexts(card).indexOf("Remote server · internlm2 @ 10.0.0.5:8080") >= 0, labelTexts(card))
            verify(labelTexts(card).indexOf("Needs") < 0)
        }

        function test_unusable() {
            const card = createTemporaryObject(cardComponent, root, {available: 1e12, error: "config.json: bad JSON"})
            verify(!card.usable)
            verify(!card.fits)
            verify(labelTexts(card).indexOf("config.json: bad JSON") >= 0)
        }
    }
}
