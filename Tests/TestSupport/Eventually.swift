/// Waits until `condition` holds, for a test whose work runs on other threads too: the OCPP
/// actors run on an event loop thread of their own, not on the pool the test yields on.
///
/// It first yields (`Task.yield`), which is all it takes when the work shares the test's
/// pool; after `yieldsFirst` it polls once a millisecond, so that on a busy machine the test's
/// spinning does not keep the pool from the jobs it waits for. It gives up after `limit`, which
/// only a failing test reaches: nothing here waits for time to pass. 30 s: on CI's two cores
/// long synchronous tests can hold the pool for seconds (OCPPTransportTests' `eventually`).
public func eventually(limit: Duration = .seconds(30), yieldsFirst: Int = 2_000,
                       _ condition: () async -> Bool) async -> Bool {
    for _ in 0..<yieldsFirst {
        if await condition() { return true }
        await Task.yield()
    }
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return await condition()
}

/// For a test that something does not happen (yet): gives the other tasks `yields` turns and
/// tells whether `condition` became true meanwhile. A bound in turns, not in time, as the
/// tests' waits had before `eventually`: a negative check must not cost a test 30 s.
public func happens(withinYields yields: Int = 20_000, _ condition: () async -> Bool) async -> Bool {
    for _ in 0..<yields {
        if await condition() { return true }
        await Task.yield()
    }
    return await condition()
}
