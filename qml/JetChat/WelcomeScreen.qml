// What a visitor sees first (and again after the kiosk's idle reset): a greeting and questions to tap.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Theme

Item {
    id: root
    property bool kiosk: false
    property bool ready: false
    signal suggestionPicked(string text)

    objectName: "welcomeScreen"

    readonly property var suggestions: [
        qsTr("What can you do?"),
        qsTr("Tell me a short story about a robot."),
        qsTr("Explain how a battery works, simply."),
        qsTr("Write a Python function that reverses a string.")
    ]

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.padding, 720 * Theme.scale)
        spacing: Theme.padding

        Label {
            objectName: "welcomeTitle"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("Hello! How can I help?")
            font.pixelSize: Theme.fontTitle
            font.bold: true
            wrapMode: Text.Wrap
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("I run entirely on this device. Type a question or tap one below.")
            color: Theme.textDim
            wrapMode: Text.Wrap
        }
        GridLayout {
            Layout.fillWidth: true
            Layout.topMargin: Theme.padding
            columns: root.width > 700 * Theme.scale ? 2 : 1
            rowSpacing: Theme.spacing
            columnSpacing: Theme.spacing
            Repeater {
                model: root.suggestions
                delegate: Button {
                    required property string modelData
                    required property int index
                    objectName: "suggestion" + index
                    Layout.fillWidth: true
                    implicitHeight: Theme.touchTarget * 1.5
                    enabled: root.ready
                    text: modelData
                    onClicked: root.suggestionPicked(modelData)
                    contentItem: Label {
                        text: parent.text
                        wrapMode: Text.Wrap
                        horizontalAlignment: Text.AlignHCenter
                        verticalAlignment: Text.AlignVCenter
                    }
                }
            }
        }
    }
}
