import CConcurrencyHook
import HAL
import NIOCore
import NIOPosix

/// Where the firmware's OCPP side runs: one swift-nio event loop thread (`NIO-SGLTN-0-#0`),
/// which also serves as Swift concurrency's global executor, so the charge point actor, its
/// tasks and the WebSocket share one thread instead of one event loop per core plus a pool of
/// concurrency workers. A charger holds one connection to one CSMS: a single loop is plenty,
/// and every hop between the actor and the socket stays on that thread.
public enum OCPPExecutor {
    /// Call first thing in `main`, on the main thread, before any `Task` or NIO use. Returns
    /// whether Swift concurrency now runs on the event loop (false: it keeps its own pool,
    /// which works the same with more threads).
    @discardableResult
    public static func useOneThread() -> Bool {
        NIOSingletons.groupLoopCountSuggestion = 1
        // Blocking work (a firmware image handed to the installer) gets one thread, started
        // only when first used.
        NIOSingletons.blockingPoolThreadCountSuggestion = 1
        // swift-nio's own takeover finds the hook with dlsym: that works against the shared
        // runtime (debug builds, tests) but not in the static firmware build, whose runtime
        // symbols are hidden; there the hook is set through its link-time address instead.
        return installEnqueueGlobalHook()
            || NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The runtime's hook type: the job, and the runtime's own enqueue (unused: every job goes
    /// to the event loop).
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Points `swift_task_enqueueGlobal_hook` at the singleton event loop, as swift-nio's
    /// takeover does; false when something else set the hook first. Main thread, before any task.
    static func installEnqueueGlobalHook() -> Bool {
        let slot = swiftevse_enqueue_global_hook_slot()
        guard slot.pointee == nil else { return false }
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { hook -> Bool in
            hook.baseAddress!.initialize(to: { job, _ in
                MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(job)
            })
            // The thin function is a plain code pointer: what the runtime calls.
            slot.pointee = hook.baseAddress!.withMemoryRebound(to: UnsafeMutableRawPointer.self, capacity: 1) { $0.pointee }
            return true
        }
    }
}

extension OCPPExecutor {
    /// The event loop an OCPP charge point's actor runs its jobs on (`unownedExecutor`): in the
    /// firmware the one loop, which also reads the socket, so a CALL that needs no suspension
    /// is answered where it is read. Elsewhere (tests) one of the singleton group's loops.
    public static func actorLoop() -> any EventLoop { MultiThreadedEventLoopGroup.singleton.next() }

    /// Waits `duration` on the event loop (returns early when the task is cancelled). For the
    /// charge point's timers (heartbeat, retries, status delays): `Task.sleep` would resume on a
    /// libdispatch timer thread, since the event loop takes over only Swift concurrency's
    /// immediate jobs, not its delayed ones.
    public static let sleep: @Sendable (EVSEDuration) async -> Void = { duration in
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let scheduled = loop.scheduleTask(in: .microseconds(max(0, duration.microseconds))) {}
        await withTaskCancellationHandler {
            try? await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
