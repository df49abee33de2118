/// The tool version, recorded in run manifests and cache keys.
public enum GlassboxVersion {
    public static let string = "0.1.0"
}
