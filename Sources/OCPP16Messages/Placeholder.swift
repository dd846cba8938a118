// Placeholder until the OCPP16Messages work lands.
