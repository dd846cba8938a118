// Placeholder until the OCPPSecurity work lands.
