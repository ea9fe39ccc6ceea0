// A one-line message strip (error, warning, notice) that hides itself when its text is empty.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import JetChat.Theme

Rectangle {
    id: banner
    property alias text: label.text
    property color tone: Theme.danger
    property bool dismissable: true
    signal dismissed()

    visible: text.length > 0
    implicitHeight: visible ? Math.max(Theme.touchTarget, label.implicitHeight + 2 * Theme.spacing) : 0
    color: Qt.rgba(tone.r, tone.g, tone.b, 0.18)
    border.color: tone

    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.padding
        anchors.rightMargin: Theme.spacing
        Label {
            id: label
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.text
            font.pixelSize: Theme.fontSmall
        }
        ToolButton {
            visible: banner.dismissable
            text: qsTr("Dismiss")
            implicitHeight: Theme.touchTarget
            onClicked: banner.dismissed()
        }
    }
}
