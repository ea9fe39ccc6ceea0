// Where the question is typed: Enter sends (Shift+Enter for a new line), the button turns into Stop while replying.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Rectangle {
    id: root
    required property ChatController controller
    readonly property bool busy: controller.state === ChatController.Generating
                                 || controller.state === ChatController.Stopping

    implicitHeight: Math.min(row.implicitHeight, 200 * Theme.scale) + 2 * Theme.padding
    color: Theme.surface

    function submit() {
        if (root.controller.send(input.text)) input.clear()
    }

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing

        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.minimumHeight: Theme.touchTarget
            TextArea {
                id: input
                objectName: "composerInput"
                placeholderText: root.controller.hasModel ? qsTr("Ask me anything…") : qsTr("Choose a model to start")
                wrapMode: TextEdit.Wrap
                font.pixelSize: Theme.fontNormal
                color: Theme.text
                background: Rectangle {
                    radius: Theme.radius
                    color: Theme.raised
                    border.color: input.activeFocus ? Theme.accent : Theme.border
                }
                Keys.onReturnPressed: (event) => {
                    if (event.modifiers & Qt.ShiftModifier) {
                        event.accepted = false
                    } else {
                        root.submit()
                        event.accepted = true
                    }
                }
                Keys.onEnterPressed: (event) => { root.submit(); event.accepted = true }
            }
        }

        Button {
            objectName: "sendButton"
            Layout.preferredHeight: Theme.touchTarget
            Layout.preferredWidth: Theme.touchTarget * 2.2
            text: root.busy ? qsTr("Stop") : qsTr("Send")
            enabled: root.busy ? root.controller.state === ChatController.Generating
                               : root.controller.state === ChatController.Ready && input.text.trim().length > 0
            highlighted: true
            onClicked: root.busy ? root.controller.stop() : root.submit()
        }
    }
}
