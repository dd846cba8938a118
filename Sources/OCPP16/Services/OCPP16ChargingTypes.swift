import OCPP16Messages

// The OCPP 1.6 message types whose names the core's smart-charging model shares; this file
// sees only the messages, so the names are unambiguous here.
public typealias OCPP16ChargingProfile = ChargingProfile
public typealias OCPP16ChargingSchedule = ChargingSchedule
public typealias OCPP16ChargingSchedulePeriod = ChargingSchedulePeriod
