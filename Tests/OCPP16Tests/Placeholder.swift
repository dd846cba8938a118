// Tests land with OCPP16.
