// Sizes, colours and fonts of the whole UI. Every size is multiplied by `scale` (the global scale factor for
// small high-DPI screens), so one setting makes the kiosk readable from a step away.
pragma Singleton
import QtQuick

QtObject {
    property real scale: 1.0

    // Touch targets: 48 px is the smallest that fingers hit reliably (Material / Apple HIG both say 44–48).
    readonly property real touchTarget: 48 * scale
    readonly property real spacing: 8 * scale
    readonly property real padding: 12 * scale
    readonly property real radius: 14 * scale
    readonly property real sidePanelWidth: 280 * scale
    readonly property real bubbleMaxFraction: 0.82

    readonly property int fontSmall: Math.round(13 * scale)
    readonly property int fontNormal: Math.round(16 * scale)
    readonly property int fontLarge: Math.round(20 * scale)
    readonly property int fontTitle: Math.round(30 * scale)
    // Fontconfig falls back per character, so CJK and emoji render when fonts-noto-cjk / -color-emoji exist.
    readonly property string fontFamily: "Noto Sans"
    readonly property string monoFamily: "monospace"

    readonly property color background: "#0f1318"
    readonly property color surface: "#171d24"
    readonly property color raised: "#222a33"
    readonly property color border: "#313b47"
    readonly property color text: "#e9eef3"
    readonly property color textDim: "#9aa8b6"
    readonly property color accent: "#76b900"       // the board's green
    readonly property color accentText: "#0f1318"
    readonly property color userBubble: "#2b5fb8"
    readonly property color assistantBubble: "#222a33"
    readonly property color codeBackground: "#0a0d11"
    readonly property color warning: "#e6a23c"
    readonly property color danger: "#e0535f"
}
