// Placeholder until the OCPP 1.6J adapter lands.
