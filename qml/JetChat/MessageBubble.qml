// One message. A streaming reply shows its finished blocks as Markdown and the block being written as plain text
// (cheap to update 20 times a second); a finished reply is split into Markdown and copyable code blocks.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Item {
    id: root
    required property int index
    required property string author
    required property string text
    required property bool streaming
    required property string stableText
    required property string tailText
    required property var blocks
    required property string stats
    required property bool failed
    property bool isLast: false
    property bool canRegenerate: false
    signal regenerateRequested()

    readonly property bool isUser: author === "user"
    readonly property real maxBubbleWidth: Math.max(100, (width - 2 * Theme.padding) * Theme.bubbleMaxFraction)
    readonly property real contentWidth: maxBubbleWidth - 2 * Theme.padding

    implicitHeight: bubble.height + meta.implicitHeight + Theme.spacing

    Rectangle {
        id: bubble
        x: root.isUser ? root.width - width - Theme.padding : Theme.padding
        width: Math.min(root.maxBubbleWidth, column.implicitWidth + 2 * Theme.padding)
        height: column.implicitHeight + 2 * Theme.padding
        radius: Theme.radius
        color: root.isUser ? Theme.userBubble : Theme.assistantBubble
        border.color: root.failed ? Theme.danger : "transparent"

        Column {
            id: column
            x: Theme.padding
            y: Theme.padding
            spacing: Theme.spacing

            Text {
                visible: root.isUser
                width: Math.min(implicitWidth, root.contentWidth)
                text: root.isUser ? root.text : ""
                textFormat: Text.PlainText
                wrapMode: Text.Wrap
                color: Theme.text
                font.pixelSize: Theme.fontNormal
            }
            Text {
                visible: !root.isUser && root.streaming && root.stableText.length > 0
                width: Math.min(implicitWidth, root.contentWidth)
                text: visible ? root.stableText : ""
                textFormat: Text.MarkdownText
                wrapMode: Text.Wrap
                color: Theme.text
                font.pixelSize: Theme.fontNormal
            }
            Text {
                objectName: "streamingTail"
                visible: !root.isUser && root.streaming
                width: Math.min(implicitWidth, root.contentWidth)
                text: root.tailText + "▍"
                textFormat: Text.PlainText
                wrapMode: Text.Wrap
                color: Theme.text
                font.pixelSize: Theme.fontNormal
            }
            Repeater {
                model: !root.isUser && !root.streaming ? root.blocks : []
                // Only the kind of view a block needs is created (a finished reply may hold many blocks).
                delegate: Loader {
                    id: block
                    required property var modelData
                    sourceComponent: modelData.kind === "code" ? codeView : markdownView
                    Component {
                        id: markdownView
                        Text {
                            width: Math.min(implicitWidth, root.contentWidth)
                            text: block.modelData.text
                            textFormat: Text.MarkdownText
                            wrapMode: Text.Wrap
                            color: Theme.text
                            linkColor: Theme.accent
                            font.pixelSize: Theme.fontNormal
                        }
                    }
                    Component {
                        id: codeView
                        CodeBlock {
                            width: root.contentWidth
                            code: block.modelData.text
                            language: block.modelData.language
                        }
                    }
                }
            }
        }
    }

    RowLayout {
        id: meta
        anchors.top: bubble.bottom
        anchors.topMargin: 2
        x: root.isUser ? root.width - width - Theme.padding : Theme.padding
        visible: !root.streaming
        spacing: Theme.spacing
        Label {
            text: root.stats
            color: root.failed ? Theme.danger : Theme.textDim
            font.pixelSize: Theme.fontSmall
        }
        ToolButton {
            text: qsTr("Copy")
            font.pixelSize: Theme.fontSmall
            implicitHeight: Theme.touchTarget * 0.8
            onClicked: Clipboard.setText(root.text)
        }
        ToolButton {
            objectName: "regenerateButton"
            visible: !root.isUser && root.isLast
            enabled: root.canRegenerate
            text: qsTr("Regenerate")
            font.pixelSize: Theme.fontSmall
            implicitHeight: Theme.touchTarget * 0.8
            onClicked: root.regenerateRequested()
        }
    }
}
