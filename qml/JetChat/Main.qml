// The main window: top bar, chat (or the welcome screen), composer, gauges; drawers for models, settings and history.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

ApplicationWindow {
    id: window
    required property JetChatApp app
    readonly property ChatController controller: app.controller
    readonly property bool welcome: controller.conversation.count === 0

    width: 1280
    height: 800
    visible: true
    title: qsTr("JetChat")
    color: Theme.background
    font.family: Theme.fontFamily
    font.pixelSize: Theme.fontNormal
    palette.window: Theme.background
    palette.windowText: Theme.text
    palette.base: Theme.surface
    palette.text: Theme.text
    palette.button: Theme.raised
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
    palette.placeholderText: Theme.textDim

    Binding { target: Theme; property: "scale"; value: window.app.settings.scale }

    // In kiosk mode nothing in the UI may end the app: window-manager close requests are refused too.
    onClosing: (close) => { close.accepted = !window.app.kiosk }

    function openSettings() {
        if (app.kiosk) pinDialog.open()
        else settingsPanel.open()
    }

    Connections {
        target: window.app.idle
        function onIdle() {
            // Back to the welcome screen for the next visitor; the conversation is kept in the history.
            window.controller.newConversation()
            settingsPanel.close()
            switcher.close()
            history.close()
            pinDialog.close()
        }
    }

    header: TopBar {
        app: window.app
        onNewConversationRequested: window.controller.newConversation()
        onModelsRequested: switcher.open()
        onSettingsRequested: window.openSettings()
        onHistoryRequested: history.open()
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            Banner {
                Layout.fillWidth: true
                objectName: "errorBanner"
                text: window.controller.errorMessage
                tone: Theme.danger
                onDismissed: window.controller.dismissError()
            }
            Banner {
                Layout.fillWidth: true
                text: window.app.store.warning
                tone: Theme.warning
                onDismissed: window.app.store.dismissWarning()
            }
            Banner {
                id: noticeBanner
                Layout.fillWidth: true
                objectName: "noticeBanner"
                text: window.controller.notice
                tone: Theme.accent
                onDismissed: window.controller.dismissNotice()
            }

            Item {
                Layout.fillWidth: true
                Layout.fillHeight: true
                ChatView {
                    anchors.fill: parent
                    visible: !window.welcome
                    controller: window.controller
                }
                WelcomeScreen {
                    anchors.fill: parent
                    visible: window.welcome
                    kiosk: window.app.kiosk
                    ready: window.controller.state === ChatController.Ready
                    onSuggestionPicked: (text) => window.controller.send(text)
                }
            }

            Composer {
                Layout.fillWidth: true
                controller: window.controller
            }

            Loader {
                id: keyboard
                Layout.fillWidth: true
                Layout.preferredHeight: item && item.active ? item.implicitHeight : 0  // not height: the layout sets that
                active: window.app.virtualKeyboard
                source: "KioskKeyboard.qml"
                onLoaded: item.language = Qt.binding(() => window.app.language.effective)
            }
        }

        GaugePanel {
            Layout.fillHeight: true
            Layout.preferredWidth: Theme.sidePanelWidth
            visible: window.width >= 3 * Theme.sidePanelWidth
            app: window.app
        }
    }

    ModelSwitcher {
        id: switcher
        app: window.app
        width: Math.min(window.width, 560 * Theme.scale)
        height: window.height
    }

    SettingsPanel {
        id: settingsPanel
        app: window.app
        width: Math.min(window.width, 460 * Theme.scale)
        height: window.height
        onModelsRequested: { close(); switcher.open() }
    }

    HistoryPanel {
        id: history
        app: window.app
        width: Math.min(window.width, 380 * Theme.scale)
        height: window.height
    }

    PinDialog {
        id: pinDialog
        pin: window.app.settings.pin
        anchors.centerIn: Overlay.overlay
        onUnlocked: settingsPanel.open()
    }

    LoadOverlay {
        controller: window.controller
        anchors.centerIn: Overlay.overlay
    }
}
