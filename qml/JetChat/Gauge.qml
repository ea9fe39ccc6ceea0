// One gauge: a caption, a value, an optional bar (fraction 0..1; below 0 hides it) and a detail line.
import QtQuick
import QtQuick.Controls
import JetChat.Theme

Column {
    id: gauge
    property string caption
    property string valueText
    property string detail
    property real fraction: -1
    property color barColor: fraction > 0.9 ? Theme.danger : fraction > 0.75 ? Theme.warning : Theme.accent

    spacing: 2 * Theme.scale

    Label {
        text: gauge.caption
        color: Theme.textDim
        font.pixelSize: Theme.fontSmall
    }
    Label {
        text: gauge.valueText
        color: Theme.text
        font.pixelSize: Theme.fontLarge
        font.bold: true
        width: gauge.width
        elide: Text.ElideRight
    }
    Rectangle {
        visible: gauge.fraction >= 0
        width: gauge.width
        height: 6 * Theme.scale
        radius: height / 2
        color: Theme.raised
        Rectangle {
            width: parent.width * Math.max(0, Math.min(1, gauge.fraction))
            height: parent.height
            radius: parent.radius
            color: gauge.barColor
        }
    }
    Label {
        visible: text.length > 0
        text: gauge.detail
        color: Theme.textDim
        font.pixelSize: Theme.fontSmall
        width: gauge.width
        wrapMode: Text.Wrap
    }
}
