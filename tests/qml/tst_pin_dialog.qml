import QtQuick
import QtTest
import JetChat

// TestCase is not itself visible: components under test are created in this root item.
Item {
    id: root
    width: 600
    height: 700

    TestCase {
        id: test
        name: "PinDialog"
        when: windowShown

        Component {
            id: dialogComponent
            PinDialog { pin: "2580" }
        }

        SignalSpy { id: unlocked; signalName: "unlocked" }

        function test_wrongThenRight() {
            const dialog = createTemporaryObject(dialogComponent, root)
            unlocked.target = dialog
            unlocked.clear()
            dialog.open()
            tryCompare(dialog, "opened", true)
            for (const key of ["1", "2", "3", "4", "OK"]) dialog.press(key)
            compare(unlocked.count, 0)
            verify(dialog.visible)
            compare(dialog.entered, "")
            for (const key of ["2", "5", "8", "9", "⌫", "0", "OK"]) dialog.press(key)
            compare(unlocked.count, 1)
            tryCompare(dialog, "visible", false)
        }
    }
}
