// System prompt, sampling, context length, memory saver, language, scale and kiosk options. Changes are saved at
// once; the context length and the memory saver apply from the next model load (a button reloads now).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Drawer {
    id: drawer
    required property JetChatApp app
    readonly property AppSettings settings: app.settings
    signal modelsRequested()

    objectName: "settingsPanel"
    edge: Qt.RightEdge
    background: Rectangle { color: Theme.surface }

    component Caption: Label {
        color: Theme.textDim
        font.pixelSize: Theme.fontSmall
        Layout.topMargin: Theme.spacing
    }

    ScrollView {
        anchors.fill: parent
        anchors.margins: Theme.padding
        contentWidth: availableWidth

        ColumnLayout {
            width: parent.width
            spacing: Theme.spacing / 2

            RowLayout {
                Label {
                    Layout.fillWidth: true
                    text: qsTr("Settings")
                    font.pixelSize: Theme.fontLarge
                    font.bold: true
                }
                Button { text: qsTr("Models…"); implicitHeight: Theme.touchTarget; onClicked: drawer.modelsRequested() }
                Button { text: qsTr("Close"); implicitHeight: Theme.touchTarget; onClicked: drawer.close() }
            }

            Caption { text: qsTr("System prompt (empty: the model's default)") }
            TextArea {
                Layout.fillWidth: true
                Layout.preferredHeight: Theme.touchTarget * 2.5
                objectName: "systemPromptField"
                text: drawer.settings.systemPrompt
                wrapMode: TextEdit.Wrap
                background: Rectangle { color: Theme.raised; radius: Theme.radius / 2 }
                onEditingFinished: drawer.settings.systemPrompt = text
            }

            Caption { text: qsTr("Temperature: %1 (0 = always the most likely word)").arg(drawer.settings.temperature.toFixed(2)) }
            Slider {
                Layout.fillWidth: true
                from: 0; to: 2; stepSize: 0.05
                value: drawer.settings.temperature
                onMoved: drawer.settings.temperature = value
            }
            Caption { text: qsTr("Top-p: %1").arg(drawer.settings.topP.toFixed(2)) }
            Slider {
                Layout.fillWidth: true
                from: 0.05; to: 1; stepSize: 0.05
                value: drawer.settings.topP
                onMoved: drawer.settings.topP = value
            }
            Caption { text: qsTr("Longest reply (tokens)") }
            SpinBox {
                from: 16; to: 8192; stepSize: 64; editable: true
                value: drawer.settings.maxTokens
                onValueModified: drawer.settings.maxTokens = value
            }
            Caption { text: qsTr("Context length (tokens; applies when a model loads)") }
            RowLayout {
                ComboBox {
                    id: contextBox
                    model: [512, 1024, 2048, 4096, 8192]
                    currentIndex: Math.max(0, model.indexOf(drawer.settings.contextLength))
                    onActivated: drawer.settings.contextLength = model[currentIndex]
                }
                Button {
                    text: qsTr("Reload model")
                    enabled: drawer.app.controller.hasModel
                    onClicked: drawer.app.controller.switchModel(drawer.app.controller.modelPath)
                }
            }
            Switch {
                objectName: "memorySaverSwitch"
                text: qsTr("Memory saver")
                checked: drawer.settings.memorySaver
                onToggled: drawer.settings.memorySaver = checked
            }
            Label {
                Layout.fillWidth: true
                text: qsTr("int8 KV cache (and an 8-bit output head where that is smaller): less memory per token of context; applies when a model loads")
                color: Theme.textDim
                font.pixelSize: Theme.fontSmall
                wrapMode: Text.Wrap
            }
            Button {
                text: qsTr("Reset sampling to defaults")
                onClicked: drawer.settings.resetSampling()
            }

            Caption { text: qsTr("Language") }
            ComboBox {
                objectName: "languageBox"
                textRole: "name"
                valueRole: "code"
                model: drawer.app.language.available
                Component.onCompleted: currentIndex = indexOfValue(drawer.app.language.language)
                onActivated: drawer.app.language.language = currentValue
            }
            Caption { text: qsTr("Text size: %1×").arg(drawer.settings.scale.toFixed(2)) }
            Slider {
                Layout.fillWidth: true
                from: 0.75; to: 2.5; stepSize: 0.05
                value: drawer.settings.scale
                // Applied on release: rescaling while dragging would move the slider under the finger.
                onPressedChanged: if (!pressed) drawer.settings.scale = value
            }

            Caption { text: qsTr("Kiosk") }
            Switch {
                objectName: "kioskSwitch"
                text: qsTr("Kiosk mode (full screen, settings behind a PIN)")
                checked: drawer.app.kiosk
                onToggled: drawer.app.kiosk = checked
            }
            RowLayout {
                Label { text: qsTr("Back to the welcome screen after (minutes)") }
                SpinBox {
                    from: 1; to: 120
                    value: drawer.settings.idleMinutes
                    onValueModified: drawer.settings.idleMinutes = value
                }
            }
            RowLayout {
                Label { text: qsTr("Settings PIN") }
                TextField {
                    text: drawer.settings.pin
                    inputMethodHints: Qt.ImhDigitsOnly
                    validator: RegularExpressionValidator { regularExpression: /[0-9]{4,8}/ }
                    onEditingFinished: if (acceptableInput) drawer.settings.pin = text
                }
            }
            Caption { text: qsTr("API for other programs on this robot (OpenAI-compatible)") }
            Switch {
                objectName: "apiSwitch"
                text: qsTr("Serve the loaded model over HTTP")
                checked: drawer.settings.apiEnabled
                onToggled: drawer.settings.apiEnabled = checked
            }
            RowLayout {
                Label { text: qsTr("Port") }
                SpinBox {
                    from: 1024; to: 65535; editable: true
                    value: drawer.settings.apiPort
                    textFromValue: (v) => String(v)   // no thousands separator in a port number
                    onValueModified: drawer.settings.apiPort = value
                }
            }
            Switch {
                text: qsTr("Reachable from other machines (else this one only)")
                checked: drawer.settings.apiLan
                onToggled: drawer.settings.apiLan = checked
            }
            RowLayout {
                Label { text: qsTr("API key") }
                TextField {
                    Layout.fillWidth: true
                    text: drawer.settings.apiKey
                    echoMode: TextInput.PasswordEchoOnEdit
                    placeholderText: qsTr("none: anyone who can connect may use it")
                    onEditingFinished: drawer.settings.apiKey = text
                }
            }
            Label {
                Layout.fillWidth: true
                objectName: "apiStatusLabel"
                visible: drawer.settings.apiEnabled
                text: drawer.app.controller.apiError ? qsTr("Not serving: %1").arg(drawer.app.controller.apiError)
                      : drawer.app.controller.apiUrl ? qsTr("Serving the loaded model at %1").arg(drawer.app.controller.apiUrl)
                      : qsTr("Starts when a model on this machine is loaded.")
                color: drawer.app.controller.apiError ? Theme.danger : Theme.textDim
                font.pixelSize: Theme.fontSmall
                wrapMode: Text.Wrap
            }
            Label {
                Layout.topMargin: Theme.padding
                text: qsTr("JetChat %1").arg(drawer.app.version)
                color: Theme.textDim
                font.pixelSize: Theme.fontSmall
            }
        }
    }
}
