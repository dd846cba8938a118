// Placeholder until the Drivers work lands.
