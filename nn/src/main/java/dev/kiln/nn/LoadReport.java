package dev.kiln.nn;

import java.util.List;

/**
 * What {@link Module#loadStateDict} did: the keys it loaded, the model's keys the source lacked,
 * the source's keys the model lacks, and the keys present in both with different shapes or dtypes.
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> mismatched) {
    public LoadReport {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
    }

    /** True when every key matched one to one. */
    public boolean isComplete() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("loaded ").append(loaded.size()).append(" tensors");
        if (!missing.isEmpty()) {
            sb.append("; missing in source: ").append(missing);
        }
        if (!unexpected.isEmpty()) {
            sb.append("; unexpected in source: ").append(unexpected);
        }
        if (!mismatched.isEmpty()) {
            sb.append("; shape/dtype mismatch: ").append(mismatched);
        }
        return sb.toString();
    }
}
