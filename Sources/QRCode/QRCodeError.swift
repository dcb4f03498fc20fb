/// An error thrown when a ``QRCode`` cannot be built.
public enum QRCodeError: Error, Sendable, Hashable {
    /// The payload does not fit in a version-40 symbol at the requested error-correction level.
    ///
    /// - Parameters:
    ///   - bytes: The length of the payload, in bytes.
    ///   - maximum: The most bytes a version-40 symbol holds in byte mode at that level
    ///     (2,953 for ``QRCode/ErrorCorrection/low``, 2,331 for ``QRCode/ErrorCorrection/medium``,
    ///     1,663 for ``QRCode/ErrorCorrection/quartile`` and 1,273 for ``QRCode/ErrorCorrection/high``).
    case dataTooLong(bytes: Int, maximum: Int)
}
