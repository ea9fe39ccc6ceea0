// The bar above the chat: title (long-press in kiosk mode asks for the PIN), active model, and the main actions.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

ToolBar {
    id: bar
    required property JetChatApp app
    signal newConversationRequested()
    signal modelsRequested()
    signal settingsRequested()
    signal historyRequested()

    implicitHeight: Theme.touchTarget + Theme.spacing
    background: Rectangle { color: Theme.surface }

    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.padding
        anchors.rightMargin: Theme.padding
        spacing: Theme.spacing

        Label {
            text: qsTr("JetChat")
            font.pixelSize: Theme.fontLarge
            font.bold: true
            color: Theme.accent
            // Settings are behind a long press in kiosk mode: visitors do not find them by accident.
            TapHandler {
                longPressThreshold: 2
                onLongPressed: bar.settingsRequested()
            }
        }
        Label {
            Layout.fillWidth: true
            objectName: "activeModelLabel"
            elide: Text.ElideRight
            color: Theme.textDim
            font.pixelSize: Theme.fontSmall
            text: bar.app.controller.state === ChatController.Loading
                  ? qsTr("Loading…")
                  : bar.app.controller.hasModel
                    ? bar.app.controller.modelName + " · " + bar.app.controller.backendName
                      + (bar.app.controller.modelBuiltIn
                         ? " · " + qsTr("built-in demo — load a real model for real answers") : "")
                    : qsTr("No model loaded")
        }
        ToolButton {
            text: qsTr("New chat")
            objectName: "newConversationButton"
            implicitHeight: Theme.touchTarget
            onClicked: bar.newConversationRequested()
        }
        ToolButton {
            text: qsTr("History")
            visible: !bar.app.kiosk
            implicitHeight: Theme.touchTarget
            onClicked: bar.historyRequested()
        }
        ToolButton {
            text: qsTr("Models")
            objectName: "modelsButton"
            visible: !bar.app.kiosk
            implicitHeight: Theme.touchTarget
            onClicked: bar.modelsRequested()
        }
        ToolButton {
            text: qsTr("Settings")
            objectName: "settingsButton"
            visible: !bar.app.kiosk
            implicitHeight: Theme.touchTarget
            onClicked: bar.settingsRequested()
        }
    }
}
