// The model catalogue in a drawer: pick a model to switch to; ones that do not fit free memory are refused here
// (with the numbers) before the controller is asked, and the worker checks again before loading.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme
import "Format.js" as Format

Drawer {
    id: drawer
    required property JetChatApp app
    readonly property ChatController controller: app.controller
    // The current model's memory comes back when it is unloaded, so it counts as available for its successor.
    readonly property real available: app.monitor.memAvailable + (controller.hasModel ? controller.modelBytes : 0)
    property string refusal

    objectName: "modelSwitcher"
    edge: Qt.RightEdge
    onOpened: { refusal = ""; app.catalog.refresh() }
    background: Rectangle { color: Theme.surface }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing

        RowLayout {
            Label {
                Layout.fillWidth: true
                text: qsTr("Models")
                font.pixelSize: Theme.fontLarge
                font.bold: true
            }
            BusyIndicator {
                running: drawer.app.catalog.scanning
                implicitHeight: Theme.touchTarget
                implicitWidth: Theme.touchTarget
            }
            Button {
                objectName: "addServerButton"
                text: qsTr("Add server…")
                implicitHeight: Theme.touchTarget
                onClicked: endpointDialog.openFor("")
            }
            Button {
                text: qsTr("Unload")
                enabled: drawer.controller.state === ChatController.Ready
                implicitHeight: Theme.touchTarget
                onClicked: drawer.controller.unloadModel()
            }
            Button {
                text: qsTr("Close")
                implicitHeight: Theme.touchTarget
                onClicked: drawer.close()
            }
        }
        Label {
            Layout.fillWidth: true
            text: qsTr("Free memory: %1 (plus %2 from the current model)")
                  .arg(Format.gib(drawer.app.monitor.memAvailable)).arg(Format.gib(drawer.controller.modelBytes))
            color: Theme.textDim
            font.pixelSize: Theme.fontSmall
            wrapMode: Text.Wrap
        }
        Banner {
            Layout.fillWidth: true
            objectName: "refusalBanner"
            text: drawer.refusal
            onDismissed: drawer.refusal = ""
        }

        ListView {
            id: models
            objectName: "modelList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: Theme.spacing
            model: drawer.app.catalog
            delegate: ModelCard {
                width: ListView.view.width
                available: drawer.available
                current: path === drawer.controller.modelPath
                onEditRequested: endpointDialog.openFor(name)
                onClicked: {
                    if (!usable) {
                        drawer.refusal = qsTr("%1 cannot be used: %2").arg(name).arg(error)
                    } else if (!fits) {
                        drawer.refusal = qsTr("%1 needs %2 but only %3 is available.")
                                         .arg(name).arg(Format.gib(bytesNeeded)).arg(Format.gib(available))
                    } else {
                        drawer.controller.switchModel(path)
                        drawer.close()
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                width: parent.width
                visible: models.count === 0 && !drawer.app.catalog.scanning
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: Theme.textDim
                text: qsTr("No models found in:\n%1").arg(drawer.app.catalog.folders.join("\n"))
            }
        }
    }

    RemoteEndpointDialog {
        id: endpointDialog
        parent: Overlay.overlay
        settings: drawer.app.settings
    }
}
