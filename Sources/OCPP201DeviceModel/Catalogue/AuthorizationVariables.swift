/// AuthCtrlr, AuthCacheCtrlr and LocalAuthListCtrlr: who may charge, and what the station
/// remembers of tokens (OCPP 2.0.1 functional blocks C and D).
enum AuthorizationVariables {
    /// Entries a SendLocalList may carry (the 1.6 adapter's SendLocalListMaxLength).
    static let localListItemsPerMessage = 10_000

    static func components() -> [ComponentSpec] {
        [
            ComponentSpec(name: "AuthCtrlr", variables: [
                //       name                             type       value
                .setting("AuthorizeRemoteStart",          .boolean,  "false"),
                .setting("LocalAuthorizeOffline",         .boolean,  "true"),
                .setting("LocalPreAuthorize",             .boolean,  "false"),
                // Optional ones the firmware honours.
                .setting("Enabled",                       .boolean,  "true"),
                .setting("OfflineTxForUnknownIdEnabled",  .boolean,  "false"),
            ]),
            ComponentSpec(name: "AuthCacheCtrlr", variables: [
                .fixed("Available",                       .boolean,  "true"),
                .setting("Enabled",                       .boolean,  "true"),
                .setting("LifeTime",                      .integer,  "86400",  unit: "s", min: 1, max: 31_536_000),
                // What leaves the full cache, after the tokens that no longer authorize: the
                // least recently used, the least frequently used, or the first stored.
                .setting("Policy",                        .optionList, "LRU",  values: "LRU,LFU,FIFO"),
                // Tokens held now; the station reports it (setActual).
                .state("Storage",                         .integer,  "0",      min: 0),
            ]),
            ComponentSpec(name: "LocalAuthListCtrlr", variables: [
                .fixed("Available",                       .boolean,  "true"),
                .setting("Enabled",                       .boolean,  "true"),
                .state("Entries",                         .integer,  "0",      min: 0),
                .fixed("ItemsPerMessage",                 .integer,  "\(localListItemsPerMessage)"),
                .fixed("BytesPerMessage",                 .integer,  "1048576"),
            ]),
        ]
    }
}
