// Tests land with ChargingCore.
