// Placeholder until the HALSim work lands.
