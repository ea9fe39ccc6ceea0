// Adds or edits a remote OpenAI-compatible server (#7): name, address, model id and API key. The settings check
// the fields and keep the list; an edit leaves the key as it was unless a new one is typed (it is never shown).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Popup {
    id: dialog
    required property AppSettings settings
    property string previousName   // "" while adding
    property bool hadKey: false
    property string error

    objectName: "remoteEndpointDialog"
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(parent ? parent.width - 2 * Theme.padding : 600, 640 * Theme.scale)
    padding: Theme.padding * 2
    background: Rectangle { color: Theme.surface; radius: Theme.radius; border.color: Theme.border }

    function openFor(name) {
        const e = name ? settings.remoteEndpoint(name) : ({})
        previousName = name ? name : ""
        hadKey = !!e.hasKey
        nameField.text = e.name || ""
        urlField.text = e.baseUrl || ""
        modelField.text = e.model || ""
        keyField.text = ""
        error = ""
        open()
    }
    function save() {
        error = settings.saveRemoteEndpoint(previousName, nameField.text, urlField.text, modelField.text, keyField.text)
        if (error.length === 0) close()
    }

    component Field: TextField {
        Layout.fillWidth: true
        implicitHeight: Theme.touchTarget
        font.pixelSize: Theme.fontNormal
        onAccepted: dialog.save()
        onTextEdited: dialog.error = ""
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        Label {
            text: dialog.previousName ? qsTr("Edit server") : qsTr("Add a server")
            font.pixelSize: Theme.fontLarge
            font.bold: true
        }
        Label {
            Layout.fillWidth: true
            text: qsTr("Any OpenAI-compatible server: another JetChat, LMDeploy, vLLM, llama.cpp's server, Ollama.")
            color: Theme.textDim
            font.pixelSize: Theme.fontSmall
            wrapMode: Text.Wrap
        }
        Field { id: nameField; objectName: "endpointName"; placeholderText: qsTr("Name, e.g. Lab GPU server") }
        Field {
            id: urlField
            objectName: "endpointUrl"
            placeholderText: "http://192.168.1.20:8080/v1"
            inputMethodHints: Qt.ImhUrlCharactersOnly | Qt.ImhNoAutoUppercase
        }
        Field {
            id: modelField
            objectName: "endpointModel"
            placeholderText: qsTr("Model id, e.g. internlm2-chat-7b")
            inputMethodHints: Qt.ImhNoAutoUppercase
        }
        Field {
            id: keyField
            objectName: "endpointKey"
            echoMode: TextInput.Password
            inputMethodHints: Qt.ImhSensitiveData | Qt.ImhNoPredictiveText
            placeholderText: dialog.hadKey ? qsTr("API key (unchanged)") : qsTr("API key (none)")
        }
        Label {
            Layout.fillWidth: true
            objectName: "endpointError"
            visible: dialog.error.length > 0
            text: dialog.error
            color: Theme.danger
            wrapMode: Text.Wrap
        }
        RowLayout {
            Button {
                objectName: "endpointRemove"
                visible: dialog.previousName.length > 0
                text: qsTr("Remove")
                implicitHeight: Theme.touchTarget
                onClicked: {
                    dialog.settings.removeRemoteEndpoint(dialog.previousName)
                    dialog.close()
                }
            }
            Item { Layout.fillWidth: true }
            Button { text: qsTr("Cancel"); implicitHeight: Theme.touchTarget; onClicked: dialog.close() }
            Button {
                objectName: "endpointSave"
                text: qsTr("Save")
                highlighted: true
                implicitHeight: Theme.touchTarget
                onClicked: dialog.save()
            }
        }
    }
}
