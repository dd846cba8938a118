// Placeholder until the OCPPJSON work lands.
