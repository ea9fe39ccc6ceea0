// Shown while a model loads: which one, how far, and a button to cancel (the previous model then comes back).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Popup {
    id: overlay
    required property ChatController controller

    objectName: "loadOverlay"
    modal: true
    closePolicy: Popup.NoAutoClose
    visible: controller.state === ChatController.Loading
    padding: Theme.padding * 2
    background: Rectangle { color: Theme.surface; radius: Theme.radius; border.color: Theme.border }

    ColumnLayout {
        spacing: Theme.padding
        width: 420 * Theme.scale
        Label {
            Layout.fillWidth: true
            text: qsTr("Loading %1").arg(overlay.controller.loadingPath.split("/").pop())
            font.pixelSize: Theme.fontLarge
            elide: Text.ElideMiddle
        }
        ProgressBar {
            Layout.fillWidth: true
            objectName: "loadProgress"
            from: 0
            to: 1
            value: overlay.controller.loadProgress
        }
        Label {
            text: Math.round(overlay.controller.loadProgress * 100) + " %"
            color: Theme.textDim
        }
        Button {
            Layout.alignment: Qt.AlignRight
            objectName: "cancelLoadButton"
            text: qsTr("Cancel")
            implicitHeight: Theme.touchTarget
            onClicked: overlay.controller.cancelLoad()
        }
    }
}
