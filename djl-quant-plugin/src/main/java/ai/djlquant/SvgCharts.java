package ai.djlquant;

import java.util.List;
import java.util.Locale;

/**
 * The HTML report's charts, written as inline SVG text: a value bar (SQNR, time) and an
 * activation histogram with a marked range. Hand-written rather than a charting library: the
 * page must open offline with no script it did not bring, the charts are two simple shapes, and
 * SVG text needs no dependency and renders identically in every browser.
 */
final class SvgCharts {

    static final int BAR_WIDTH = 110;
    static final int BAR_HEIGHT = 12;
    static final int HIST_WIDTH = 560;
    static final int HIST_HEIGHT = 150;

    private SvgCharts() {}

    /**
     * A horizontal bar of {@code value} on a scale from 0 to {@code scaleMax}, with its label.
     *
     * @param value the value (clamped to the scale)
     * @param scaleMax the value of a full bar
     * @param cssClass the bar's class (its colour)
     * @param label the text beside the bar
     */
    static String bar(double value, double scaleMax, String cssClass, String label) {
        double f = Math.max(0, Math.min(1, value / scaleMax));
        return String.format(
                Locale.ROOT,
                "<svg class=\"bar\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">"
                        + "<rect class=\"track\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>"
                        + "<rect class=\"%s\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"%d\"/>"
                        + "</svg> <span class=\"num\">%s</span>",
                BAR_WIDTH,
                BAR_HEIGHT,
                ReportPage.escape(label),
                BAR_WIDTH,
                BAR_HEIGHT,
                cssClass,
                f * BAR_WIDTH,
                BAR_HEIGHT,
                ReportPage.escape(label));
    }

    /**
     * An activation histogram: counts on a logarithmic axis (activations are peaked: on a linear
     * axis the tails that decide the range would be invisible), the static range shaded and its
     * ends drawn, values outside it (clipped when serving) in another colour.
     *
     * @param start the low edge of bin 0
     * @param binWidth the width of a bin
     * @param counts the counts
     * @param range the static grid's {@code [lo, hi]}, or null for none
     */
    static String histogram(double start, double binWidth, List<Long> counts, double[] range) {
        int left = 8;
        int right = 8;
        int top = 18;
        int bottom = 22;
        double end = start + binWidth * counts.size();
        double lo = start;
        double hi = end;
        if (range != null) {
            lo = Math.min(lo, range[0]);
            hi = Math.max(hi, range[1]);
        }
        double span = hi > lo ? hi - lo : 1;
        double plotW = HIST_WIDTH - left - right;
        double plotH = HIST_HEIGHT - top - bottom;
        long maxCount = 1;
        for (long c : counts) {
            maxCount = Math.max(maxCount, c);
        }
        double logMax = Math.log10(1 + maxCount);
        StringBuilder s = new StringBuilder();
        s.append(
                String.format(
                        Locale.ROOT,
                        "<svg class=\"hist\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                                + " role=\"img\">",
                        HIST_WIDTH,
                        HIST_HEIGHT,
                        HIST_WIDTH,
                        HIST_HEIGHT));
        s.append(
                String.format(
                        Locale.ROOT,
                        "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\"/>",
                        left,
                        top,
                        plotW,
                        plotH));
        if (range != null) {
            double x0 = left + (range[0] - lo) / span * plotW;
            double x1 = left + (range[1] - lo) / span * plotW;
            s.append(
                    String.format(
                            Locale.ROOT,
                            "<rect class=\"range\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\"/>",
                            x0,
                            top,
                            Math.max(0.5, x1 - x0),
                            plotH));
        }
        for (int k = 0; k < counts.size(); k++) {
            long c = counts.get(k);
            if (c == 0) {
                continue;
            }
            double b0 = start + k * binWidth;
            double b1 = b0 + binWidth;
            double x0 = left + (b0 - lo) / span * plotW;
            double w = Math.max(0.6, (b1 - b0) / span * plotW);
            double h = Math.log10(1 + c) / logMax * plotH;
            boolean outside = range != null && (b1 <= range[0] || b0 >= range[1]);
            s.append(
                    String.format(
                            Locale.ROOT,
                            "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>",
                            outside ? "clipped" : "count",
                            x0,
                            top + plotH - h,
                            w,
                            h));
        }
        if (range != null) {
            for (int i = 0; i < 2; i++) {
                double x = left + (range[i] - lo) / span * plotW;
                s.append(
                        String.format(
                                Locale.ROOT,
                                "<line class=\"edge\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
                                        + "<text class=\"edge-label\" x=\"%.1f\" y=\"%d\""
                                        + " text-anchor=\"%s\">%s</text>",
                                x,
                                top - 2,
                                x,
                                top + plotH,
                                x,
                                top - 5,
                                i == 0 ? "end" : "start",
                                ReportPage.escape(ReportPage.number(range[i]))));
            }
        }
        if (lo < 0 && hi > 0) {
            double x = left + (0 - lo) / span * plotW;
            s.append(
                    String.format(
                            Locale.ROOT,
                            "<line class=\"zero\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>",
                            x,
                            top,
                            x,
                            top + plotH));
        }
        s.append(
                String.format(
                        Locale.ROOT,
                        "<text class=\"axis\" x=\"%d\" y=\"%d\">%s</text>"
                                + "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
                        left,
                        HIST_HEIGHT - 6,
                        ReportPage.escape(ReportPage.number(lo)),
                        HIST_WIDTH - right,
                        HIST_HEIGHT - 6,
                        ReportPage.escape(ReportPage.number(hi))));
        s.append("</svg>");
        return s.toString();
    }
}
