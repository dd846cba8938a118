// Placeholder until the OCPPTransport work lands.
