// A fenced code block: monospace, horizontally scrollable, with its language and a copy button.
import QtQuick
import QtQuick.Controls
import JetChat.Core
import JetChat.Theme

Rectangle {
    id: root
    property string code
    property string language

    implicitHeight: header.height + flick.height
    radius: Theme.radius / 2
    color: Theme.codeBackground
    border.color: Theme.border

    Item {
        id: header
        width: parent.width
        height: Theme.touchTarget * 0.8
        Label {
            anchors.left: parent.left
            anchors.leftMargin: Theme.padding
            anchors.verticalCenter: parent.verticalCenter
            text: root.language.length > 0 ? root.language : qsTr("code")
            color: Theme.textDim
            font.pixelSize: Theme.fontSmall
        }
        ToolButton {
            objectName: "copyCodeButton"
            anchors.right: parent.right
            height: parent.height
            text: copied.running ? qsTr("Copied") : qsTr("Copy code")
            font.pixelSize: Theme.fontSmall
            onClicked: {
                Clipboard.setText(root.code)
                copied.restart()
            }
            Timer { id: copied; interval: 1500 }
        }
    }

    Flickable {
        id: flick
        anchors.top: header.bottom
        width: parent.width
        height: codeText.implicitHeight + Theme.padding
        contentWidth: codeText.implicitWidth + 2 * Theme.padding
        flickableDirection: Flickable.HorizontalFlick
        boundsBehavior: Flickable.StopAtBounds
        clip: true
        Text {
            id: codeText
            x: Theme.padding
            text: root.code
            textFormat: Text.PlainText
            font.family: Theme.monoFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.text
        }
    }
}
