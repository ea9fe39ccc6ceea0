// The on-screen keyboard (Qt Virtual Keyboard), loaded only when it is installed and QT_IM_MODULE selects it.
// Chinese uses its Pinyin layout when the UI language is Simplified Chinese.
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

InputPanel {
    id: panel
    property string language: "en"
    width: parent ? parent.width : 0
    visible: active

    Binding {
        target: VirtualKeyboardSettings
        property: "locale"
        value: panel.language === "zh_CN" ? "zh_CN" : "en_US"
    }
}
