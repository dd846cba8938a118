/// OCPPCommCtrlr: how the station talks to the CSMS (OCPP 2.0.1 Part 2, appendix "Controller
/// components and variables"). Required variables first, then the optional ones we honour.
enum CommunicationVariables {
    static func components() -> [ComponentSpec] {
        [ComponentSpec(name: "OCPPCommCtrlr", variables: [
            //       name                                instance               type           value     limits
            .fixed("FileTransferProtocols",                                     .memberList,   "FTP,HTTP,HTTPS",
                   values: "FTP,HTTP,HTTPS"),
            .setting("MessageTimeout",                   instance: "Default",   .integer,      "30",     unit: "s", min: 1, max: 3_600),
            .setting("MessageAttemptInterval",           instance: "TransactionEvent", .integer, "60",   unit: "s", min: 0, max: 86_400),
            .setting("MessageAttempts",                  instance: "TransactionEvent", .integer, "3",    min: 1, max: 100),
            // The slots are tried in this order at the next connection attempt after a boot:
            // a new order takes effect then (the CSMS follows it with a Reset, use case B10).
            .setting("NetworkConfigurationPriority",                            .sequenceList, "1",      max: 100,
                     itemRange: 0...9, reboot: true),
            .setting("NetworkProfileConnectionAttempts",                        .integer,      "3",      min: 1, max: 100),
            .setting("OfflineThreshold",                                        .integer,      "60",     unit: "s", min: 0, max: 86_400),
            .setting("ResetRetries",                                            .integer,      "1",      min: 0, max: 10),
            .setting("UnlockOnEVSideDisconnect",                                .boolean,      "true"),
            // Optional ones the firmware honours.
            .state("ActiveNetworkProfile",                                      .integer,      "1",      min: 0, max: 9, persistent: true),
            .setting("HeartbeatInterval",                                       .integer,      "300",    unit: "s", min: 1, max: 86_400),
            // Only transaction messages are queued while offline (the durable transaction queue).
            .fixed("QueueAllMessages",                                          .boolean,      "false"),
            .setting("RetryBackOffRandomRange",                                 .integer,      "10",     unit: "s", min: 0, max: 3_600),
            .setting("RetryBackOffRepeatTimes",                                 .integer,      "5",      min: 0, max: 100),
            .setting("RetryBackOffWaitMinimum",                                 .integer,      "5",      unit: "s", min: 1, max: 3_600),
            .setting("WebSocketPingInterval",                                   .integer,      "60",     unit: "s", min: 0, max: 86_400),
        ])]
    }
}
