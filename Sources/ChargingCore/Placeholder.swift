// Placeholder until the ChargingCore work lands.
