// The conversation: bubbles in a list that follows the streaming reply until the user scrolls up to read.
import QtQuick
import QtQuick.Controls
import JetChat.Core
import JetChat.Theme

ListView {
    id: list
    required property ChatController controller
    // Follow the tail while the user has not scrolled away from it.
    property bool followTail: true

    objectName: "chatList"
    model: controller.conversation
    clip: true
    spacing: Theme.spacing
    topMargin: Theme.padding
    bottomMargin: Theme.padding
    boundsBehavior: Flickable.StopAtBounds
    ScrollBar.vertical: ScrollBar {}

    delegate: MessageBubble {
        width: ListView.view.width
        isLast: index === ListView.view.count - 1
        canRegenerate: list.controller.state === ChatController.Ready
        onRegenerateRequested: list.controller.regenerate()
    }

    function scrollToEnd() {
        if (followTail) positionViewAtEnd()
    }

    onMovingChanged: if (!moving) followTail = atYEnd
    onContentYChanged: if (moving && !atYEnd) followTail = false
    onCountChanged: Qt.callLater(scrollToEnd)
    onContentHeightChanged: Qt.callLater(scrollToEnd)
    onHeightChanged: Qt.callLater(scrollToEnd)

    Connections {
        target: list.controller
        // A message the user just sent always brings the view back to the bottom.
        function onStateChanged() {
            if (list.controller.state === ChatController.Generating) {
                list.followTail = true
                Qt.callLater(list.scrollToEnd)
            }
        }
    }

    RoundButton {
        objectName: "jumpToLatest"
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        anchors.margins: Theme.padding
        width: Theme.touchTarget
        height: Theme.touchTarget
        visible: !list.followTail
        text: "↓"
        onClicked: {
            list.followTail = true
            list.positionViewAtEnd()
        }
    }
}
