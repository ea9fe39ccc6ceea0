// Saved conversations, newest first: tap to reopen one, or delete it.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Core
import JetChat.Theme

Drawer {
    id: drawer
    required property JetChatApp app

    edge: Qt.LeftEdge
    background: Rectangle { color: Theme.surface }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.padding
        Label {
            text: qsTr("Conversations")
            font.pixelSize: Theme.fontLarge
            font.bold: true
        }
        ListView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: drawer.app.store.conversations
            delegate: ItemDelegate {
                id: entry
                required property var modelData
                width: ListView.view.width
                implicitHeight: Theme.touchTarget * 1.3
                highlighted: modelData.id === drawer.app.controller.conversationId
                contentItem: RowLayout {
                    Label {
                        Layout.fillWidth: true
                        text: entry.modelData.title.length > 0 ? entry.modelData.title : qsTr("(untitled)")
                        elide: Text.ElideRight
                    }
                    ToolButton {
                        text: qsTr("Delete")
                        font.pixelSize: Theme.fontSmall
                        enabled: !entry.highlighted
                        onClicked: drawer.app.store.remove(entry.modelData.id)
                    }
                }
                onClicked: {
                    drawer.app.controller.openConversation(modelData.id)
                    drawer.close()
                }
            }
        }
    }
}
