// One model of the catalogue: what it is, what it needs, and whether it fits the memory free now.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Theme
import "Format.js" as Format

ItemDelegate {
    id: card
    required property string name
    required property string path
    required property string architecture
    required property string dtype
    required property var parameters
    required property var bytesNeeded
    required property int context
    required property string error
    required property bool builtIn
    property real available: 0     // bytes the model may use: free memory plus the current model's
    property bool current: false
    readonly property bool usable: error.length === 0
    readonly property bool remote: architecture === "remote"   // an OpenAI-compatible endpoint (#7)
    readonly property bool fits: usable && bytesNeeded <= available
    signal editRequested()   // remote endpoints only: open the server form

    implicitHeight: Math.max(Theme.touchTarget * 1.6, layout.implicitHeight + 2 * Theme.padding)
    background: Rectangle {
        color: card.current ? Qt.rgba(Theme.accent.r, Theme.accent.g, Theme.accent.b, 0.15)
                            : card.down ? Theme.raised : "transparent"
        border.color: card.current ? Theme.accent : Theme.border
        radius: Theme.radius / 2
    }

    contentItem: ColumnLayout {
        id: layout
        spacing: 2 * Theme.scale
        RowLayout {
            Label {
                Layout.fillWidth: true
                text: card.name
                font.pixelSize: Theme.fontNormal
                font.bold: true
                color: card.usable ? Theme.text : Theme.textDim
                elide: Text.ElideRight
            }
            Button {
                objectName: "editEndpointButton"
                visible: card.remote
                text: qsTr("Edit")
                flat: true
                implicitHeight: Theme.touchTarget
                onClicked: card.editRequested()
            }
            Label {
                text: !card.usable ? qsTr("Unusable") : card.fits ? (card.current ? qsTr("Active") : "")
                                                                   : qsTr("Does not fit")
                color: card.fits ? Theme.accent : Theme.danger
                font.pixelSize: Theme.fontSmall
                font.bold: true
            }
        }
        Label {
            Layout.fillWidth: true
            objectName: "builtInLabel"
            visible: card.builtIn
            text: qsTr("built-in demo — load a real model for real answers")
            color: Theme.warning
            font.pixelSize: Theme.fontSmall
            font.italic: true
            wrapMode: Text.Wrap
        }
        Label {
            Layout.fillWidth: true
            visible: card.usable
            text: card.remote ? qsTr("Remote server · %1").arg(card.dtype)
                              : qsTr("%1 · %2 parameters · %3").arg(card.architecture).arg(Format.count(card.parameters)).arg(card.dtype)
            color: Theme.textDim
            font.pixelSize: Theme.fontSmall
            elide: Text.ElideRight
        }
        Label {
            Layout.fillWidth: true
            visible: card.usable && !card.remote
            text: qsTr("Needs %1 at %2 tokens of context; %3 available")
                  .arg(Format.gib(card.bytesNeeded)).arg(card.context).arg(Format.gib(card.available))
            color: card.fits ? Theme.textDim : Theme.danger
            font.pixelSize: Theme.fontSmall
            wrapMode: Text.Wrap
        }
        Label {
            Layout.fillWidth: true
            visible: !card.usable
            text: card.error
            color: Theme.danger
            font.pixelSize: Theme.fontSmall
            wrapMode: Text.Wrap
        }
    }
}
