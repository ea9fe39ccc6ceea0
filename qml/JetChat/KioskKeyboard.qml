// The on-screen keyboard (Qt Virtual Keyboard), loaded only when it is installed and QT_IM_MODULE selects it.
// Chinese uses the Pinyin layout when the UI language is Simplified Chinese and the Qt build has it. Debian's
// and Ubuntu's packages are built without Pinyin (no zh_CN layout): there the keyboard stays English and a line
// above it says so. The whole item takes its height from the layout it sits in, so it never covers the composer.
import QtQuick
import QtQuick.Controls
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings
import JetChat.Theme

Column {
    id: root
    property string language: "en"
    readonly property bool active: panel.active
    readonly property bool pinyinAvailable: VirtualKeyboardSettings.availableLocales.indexOf("zh_CN") >= 0

    width: parent ? parent.width : 0
    visible: active

    Binding {
        target: VirtualKeyboardSettings
        property: "locale"
        value: root.language === "zh_CN" && root.pinyinAvailable ? "zh_CN" : "en_US"
    }

    Label {
        objectName: "pinyinMissingLabel"
        visible: root.language === "zh_CN" && !root.pinyinAvailable
        width: parent.width
        padding: Theme.spacing
        text: qsTr("Pinyin input is not part of this Qt build: the keyboard types English letters.")
        color: Theme.warning
        font.pixelSize: Theme.fontSmall
        wrapMode: Text.Wrap
        background: Rectangle { color: Theme.surface }
    }

    InputPanel {
        id: panel
        objectName: "kioskKeyboard"
        readonly property bool pinyinAvailable: root.pinyinAvailable
        readonly property string layoutLocale: VirtualKeyboardSettings.locale
        width: parent.width
    }
}
