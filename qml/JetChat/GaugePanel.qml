// Live gauges that prove it all runs on the board: memory, speed, context and the active backend and model.
// Memory figures come from SystemMonitor (sampled twice a second), speeds from the controller's reply stats.
import QtQuick
import QtQuick.Controls
import JetChat.Core
import JetChat.Theme
import "Format.js" as Format

Rectangle {
    id: panel
    required property JetChatApp app
    readonly property ChatController controller: app.controller
    readonly property SystemMonitor monitor: app.monitor
    readonly property bool generating: controller.state === ChatController.Generating

    objectName: "gaugePanel"
    color: Theme.surface

    Flickable {
        anchors.fill: parent
        anchors.margins: Theme.padding
        contentHeight: column.implicitHeight
        clip: true

        Column {
            id: column
            width: parent.width
            spacing: Theme.padding * 1.5

            Gauge {
                objectName: "memoryGauge"
                width: column.width
                caption: panel.monitor.gpuMemTotal > 0 ? qsTr("System memory in use") : qsTr("Memory in use (shared with the GPU)")
                valueText: Format.gib(panel.monitor.memUsed) + " / " + Format.gib(panel.monitor.memTotal)
                fraction: panel.monitor.memTotal > 0 ? panel.monitor.memUsed / panel.monitor.memTotal : 0
                detail: qsTr("Available: %1").arg(Format.gib(panel.monitor.memAvailable))
            }
            Gauge {
                objectName: "gpuMemoryGauge"
                visible: panel.monitor.gpuMemTotal > 0   // a discrete GPU; on Jetson the line above says it all
                width: column.width
                caption: qsTr("GPU memory in use")
                valueText: Format.gib(panel.monitor.gpuMemUsed) + " / " + Format.gib(panel.monitor.gpuMemTotal)
                fraction: panel.monitor.gpuMemTotal > 0 ? panel.monitor.gpuMemUsed / panel.monitor.gpuMemTotal : 0
            }
            Gauge {
                objectName: "processGauge"
                width: column.width
                caption: qsTr("This app")
                valueText: Format.gib(panel.monitor.processRss)
                detail: panel.controller.hasModel ? qsTr("Model and cache: %1").arg(Format.gib(panel.controller.modelBytes)) : ""
            }
            Gauge {
                objectName: "decodeGauge"
                width: column.width
                caption: panel.generating ? qsTr("Generating (tokens/s)") : qsTr("Last reply (tokens/s)")
                valueText: Format.rate(panel.generating ? panel.controller.decodeTokS : panel.controller.lastDecodeTokS)
                detail: panel.generating ? qsTr("%n token(s) so far", "", panel.controller.generatedTokens)
                                         : qsTr("Prompt: %1 tok/s").arg(Format.rate(panel.controller.prefillTokS))
            }
            Gauge {
                objectName: "ttftGauge"
                width: column.width
                caption: qsTr("Time to first token")
                valueText: panel.controller.ttftMs > 0 ? qsTr("%1 ms").arg(Math.round(panel.controller.ttftMs)) : "–"
            }
            Gauge {
                objectName: "contextGauge"
                width: column.width
                caption: qsTr("Context used")
                valueText: panel.controller.contextUsed + " / " + panel.controller.contextLength
                fraction: panel.controller.contextLength > 0 ? panel.controller.contextUsed / panel.controller.contextLength : 0
            }
            Gauge {
                objectName: "latencyGauge"
                visible: panel.controller.networkLatencyMs >= 0
                width: column.width
                caption: qsTr("Network latency")
                valueText: qsTr("%1 ms").arg(Math.round(panel.controller.networkLatencyMs))
                detail: qsTr("request sent → first answer from the server")
            }
            Gauge {
                objectName: "gpuGauge"
                visible: panel.monitor.gpuLoadPercent >= 0
                width: column.width
                caption: qsTr("GPU load")
                valueText: panel.monitor.gpuLoadPercent + " %"
                fraction: panel.monitor.gpuLoadPercent / 100
            }
            Gauge {
                objectName: "modelGauge"
                width: column.width
                caption: qsTr("Model")
                valueText: panel.controller.hasModel ? panel.controller.modelName : qsTr("none")
                detail: !panel.controller.hasModel ? ""
                        : panel.controller.modelBuiltIn
                          ? qsTr("built-in demo — load a real model for real answers")
                          : qsTr("%1 on %2").arg(panel.controller.modelArchitecture).arg(panel.controller.backendName)
            }
        }
    }
}
