// A keypad that asks for the settings PIN in kiosk mode.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Theme

Popup {
    id: dialog
    property string pin
    property string entered
    signal unlocked()

    objectName: "pinDialog"
    modal: true
    padding: Theme.padding * 2
    onOpened: entered = ""
    background: Rectangle { color: Theme.surface; radius: Theme.radius; border.color: Theme.border }

    function press(key) {
        if (key === "⌫") {
            entered = entered.slice(0, -1)
        } else if (key === "OK") {
            if (entered === pin) {
                close()
                unlocked()
            } else {
                entered = ""
                wrong.visible = true
            }
        } else if (entered.length < 8) {
            entered += key
            wrong.visible = false
        }
    }

    ColumnLayout {
        spacing: Theme.spacing
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: qsTr("Enter the PIN")
            font.pixelSize: Theme.fontLarge
        }
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: "●".repeat(dialog.entered.length) || " "
            font.pixelSize: Theme.fontLarge
        }
        Label {
            id: wrong
            Layout.alignment: Qt.AlignHCenter
            visible: false
            text: qsTr("Wrong PIN")
            color: Theme.danger
        }
        GridLayout {
            columns: 3
            rowSpacing: Theme.spacing
            columnSpacing: Theme.spacing
            Repeater {
                model: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
                delegate: Button {
                    required property string modelData
                    text: modelData
                    implicitWidth: Theme.touchTarget * 1.5
                    implicitHeight: Theme.touchTarget * 1.3
                    font.pixelSize: Theme.fontLarge
                    onClicked: dialog.press(modelData)
                }
            }
        }
        Button {
            Layout.fillWidth: true
            text: qsTr("Cancel")
            onClicked: dialog.close()
        }
    }
}
