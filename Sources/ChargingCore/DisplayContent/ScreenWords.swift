/// Every word of the station's screens in one language. The table below has one row per
/// language: adding a language to the screens is a case in `DisplayLanguage` and its row here.
/// A row missing a word does not compile; a language without a row is caught by
/// `DisplayContentTests` (and would show English).
public struct ScreenWords: Sendable {
    /// Between whole and fractional digits: 1.23 (en), 1,23 (de, fr, nl).
    public var decimalSeparator: Character
    /// Before the running cost: "Cost 1.23".
    public var cost: String
    /// Before the final cost: "Total 3.31".
    public var total: String
    public var ready: String
    public var presentYourCard: String
    public var toStartCharging: String
    public var reserved: String
    public var checkingCard: String
    public var pleaseWait: String
    public var cardRejected: String
    public var notAuthorized: String
    public var cardAccepted: String
    public var plugInTheCable: String
    public var charging: String
    public var pausedByVehicle: String
    public var waitingForPower: String
    public var chargingFinished: String
    public var unplugTheCable: String
    public var outOfService: String
    public var useAnotherCharger: String
    public var fault: String
    public var callService: String
    public var groundFailure: String
    public var emergencyStop: String
    public var overTemperature: String
    public var contactorWelded: String
    public var lockFailure: String
    public var meterFailure: String
    public var readerFailure: String
    public var pilotFault: String
    public var overCurrent: String

    public static let table: [DisplayLanguage: ScreenWords] = [
        .en: ScreenWords(
            decimalSeparator: ".", cost: "Cost", total: "Total",
            ready: "Ready",
            presentYourCard: "Present your card",
            toStartCharging: "to start charging",
            reserved: "Reserved",
            checkingCard: "Checking card",
            pleaseWait: "Please wait",
            cardRejected: "Card rejected",
            notAuthorized: "Not authorized to charge here",
            cardAccepted: "Card accepted",
            plugInTheCable: "Plug in the cable",
            charging: "Charging",
            pausedByVehicle: "Paused by vehicle",
            waitingForPower: "Waiting for power",
            chargingFinished: "Charging finished",
            unplugTheCable: "Unplug the cable",
            outOfService: "Out of service",
            useAnotherCharger: "Please use another charger",
            fault: "Fault",
            callService: "Call service",
            groundFailure: "Earth fault (RCD tripped)",
            emergencyStop: "Emergency stop pressed",
            overTemperature: "Too hot, cooling down",
            contactorWelded: "Power switch stuck",
            lockFailure: "Cable lock failure",
            meterFailure: "Energy meter failure",
            readerFailure: "Card reader failure",
            pilotFault: "Vehicle signal fault",
            overCurrent: "Vehicle drew too much current"
        ),
        .de: ScreenWords(
            decimalSeparator: ",", cost: "Kosten", total: "Gesamt",
            ready: "Bereit",
            presentYourCard: "Karte vorhalten",
            toStartCharging: "um zu laden",
            reserved: "Reserviert",
            checkingCard: "Karte wird geprüft",
            pleaseWait: "Bitte warten",
            cardRejected: "Karte abgelehnt",
            notAuthorized: "Keine Ladeberechtigung",
            cardAccepted: "Karte akzeptiert",
            plugInTheCable: "Kabel einstecken",
            charging: "Lädt",
            pausedByVehicle: "Pause durch Fahrzeug",
            waitingForPower: "Warten auf Leistung",
            chargingFinished: "Laden beendet",
            unplugTheCable: "Kabel abziehen",
            outOfService: "Außer Betrieb",
            useAnotherCharger: "Bitte andere Ladestation nutzen",
            fault: "Störung",
            callService: "Service anrufen",
            groundFailure: "Fehlerstrom (FI ausgelöst)",
            emergencyStop: "Not-Halt betätigt",
            overTemperature: "Zu heiß, kühlt ab",
            contactorWelded: "Schütz verklebt",
            lockFailure: "Kabelverriegelung defekt",
            meterFailure: "Zähler defekt",
            readerFailure: "Kartenleser defekt",
            pilotFault: "Fehler im Fahrzeugsignal",
            overCurrent: "Überstrom vom Fahrzeug"
        ),
        .fr: ScreenWords(
            decimalSeparator: ",", cost: "Coût", total: "Total",
            ready: "Disponible",
            presentYourCard: "Présentez votre badge",
            toStartCharging: "pour charger",
            reserved: "Réservé",
            checkingCard: "Vérification du badge",
            pleaseWait: "Veuillez patienter",
            cardRejected: "Badge refusé",
            notAuthorized: "Recharge non autorisée",
            cardAccepted: "Badge accepté",
            plugInTheCable: "Branchez le câble",
            charging: "En charge",
            pausedByVehicle: "Pause par le véhicule",
            waitingForPower: "En attente de puissance",
            chargingFinished: "Charge terminée",
            unplugTheCable: "Débranchez le câble",
            outOfService: "Hors service",
            useAnotherCharger: "Utilisez une autre borne",
            fault: "Défaut",
            callService: "Appelez le service",
            groundFailure: "Défaut de terre (différentiel)",
            emergencyStop: "Arrêt d'urgence activé",
            overTemperature: "Surchauffe, refroidissement",
            contactorWelded: "Contacteur soudé",
            lockFailure: "Défaut du verrou de câble",
            meterFailure: "Défaut du compteur",
            readerFailure: "Défaut du lecteur de badge",
            pilotFault: "Défaut du signal véhicule",
            overCurrent: "Surintensité du véhicule"
        ),
        .nl: ScreenWords(
            decimalSeparator: ",", cost: "Kosten", total: "Totaal",
            ready: "Beschikbaar",
            presentYourCard: "Houd uw pas voor de lezer",
            toStartCharging: "om te laden",
            reserved: "Gereserveerd",
            checkingCard: "Pas wordt gecontroleerd",
            pleaseWait: "Even geduld",
            cardRejected: "Pas geweigerd",
            notAuthorized: "Niet gemachtigd om hier te laden",
            cardAccepted: "Pas geaccepteerd",
            plugInTheCable: "Steek de kabel in",
            charging: "Laden",
            pausedByVehicle: "Gepauzeerd door auto",
            waitingForPower: "Wacht op vermogen",
            chargingFinished: "Laden voltooid",
            unplugTheCable: "Koppel de kabel los",
            outOfService: "Buiten gebruik",
            useAnotherCharger: "Gebruik een andere laadpaal",
            fault: "Storing",
            callService: "Bel de service",
            groundFailure: "Aardlek (aardlekschakelaar)",
            emergencyStop: "Noodstop ingedrukt",
            overTemperature: "Te warm, koelt af",
            contactorWelded: "Schakelaar vastgelast",
            lockFailure: "Kabelvergrendeling defect",
            meterFailure: "Energiemeter defect",
            readerFailure: "Paslezer defect",
            pilotFault: "Fout in voertuigsignaal",
            overCurrent: "Te hoge stroom van auto"
        ),
    ]

    /// The row of `language` (English if a row were missing).
    public static func of(_ language: DisplayLanguage) -> ScreenWords {
        table[language] ?? table[.en] ?? ScreenWords.fallback
    }

    /// Only reached if the table lost its English row: keeps the screen readable.
    static let fallback = ScreenWords(decimalSeparator: ".", cost: "Cost", total: "Total", ready: "Ready", presentYourCard: "Present your card", toStartCharging: "to start charging", reserved: "Reserved", checkingCard: "Checking card", pleaseWait: "Please wait", cardRejected: "Card rejected", notAuthorized: "Not authorized to charge here", cardAccepted: "Card accepted", plugInTheCable: "Plug in the cable", charging: "Charging", pausedByVehicle: "Paused by vehicle", waitingForPower: "Waiting for power", chargingFinished: "Charging finished", unplugTheCable: "Unplug the cable", outOfService: "Out of service", useAnotherCharger: "Please use another charger", fault: "Fault", callService: "Call service", groundFailure: "Earth fault (RCD tripped)", emergencyStop: "Emergency stop pressed", overTemperature: "Too hot, cooling down", contactorWelded: "Power switch stuck", lockFailure: "Cable lock failure", meterFailure: "Energy meter failure", readerFailure: "Card reader failure", pilotFault: "Vehicle signal fault", overCurrent: "Vehicle drew too much current")
}
