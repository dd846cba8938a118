// Placeholder until the Station work lands.
