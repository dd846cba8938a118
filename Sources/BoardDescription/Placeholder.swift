// Placeholder until the BoardDescription work lands.
