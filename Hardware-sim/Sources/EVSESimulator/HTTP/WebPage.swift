enum WebPage {
    static let html = "<!doctype html><title>evse-sim</title>"
}
