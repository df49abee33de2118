public enum GlassboxNNPlaceholder {}
