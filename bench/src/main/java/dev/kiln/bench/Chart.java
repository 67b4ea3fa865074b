package dev.kiln.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** A grouped bar chart of the report (Kiln, OpenBLAS, PyTorch per case, with the peak as a line). */
final class Chart {
    private static final Color[] COLORS = {new Color(0xD9534F), new Color(0x5B7DB1), new Color(0x7FB069)};
    private static final String[] NAMES = {"Kiln", "OpenBLAS", "PyTorch"};

    private Chart() {
    }

    static void write(List<Report.Row> rows, Path file) throws IOException {
        int bar = 14;
        int gap = 18;
        int left = 70;
        int top = 40;
        int plotH = 360;
        int w = left + rows.size() * (3 * bar + gap) + 40;
        int h = top + plotH + 230;
        double max = 1;
        for (Report.Row r : rows) {
            for (double v : new double[] {r.kiln(), r.blas(), r.torch(), r.peak()}) {
                if (!Double.isNaN(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        BufferedImage img = new BufferedImage(Math.max(w, 500), h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString("Kiln vs peers (GFLOP/s, median of rounds; dashed: measured fp32 peak)", left, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        for (int i = 0; i <= 5; i++) {
            int y = top + plotH - (int) (plotH * i / 5.0);
            g.setColor(new Color(0xDDDDDD));
            g.drawLine(left, y, img.getWidth() - 20, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(java.util.Locale.ROOT, "%.0f", max * i / 5), 10, y + 4);
        }
        int x = left + gap / 2;
        for (Report.Row r : rows) {
            double[] v = {r.kiln(), r.blas(), r.torch()};
            for (int s = 0; s < 3; s++) {
                if (!Double.isNaN(v[s])) {
                    int bh = (int) (plotH * v[s] / max);
                    g.setColor(COLORS[s]);
                    g.fillRect(x + s * bar, top + plotH - bh, bar - 2, bh);
                }
            }
            int py = top + plotH - (int) (plotH * r.peak() / max);
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {3, 3}, 0));
            g.drawLine(x - 2, py, x + 3 * bar, py);
            g.setStroke(new BasicStroke());
            Graphics2D t = (Graphics2D) g.create();
            t.translate(x + bar, top + plotH + 8);
            t.rotate(Math.PI / 2);
            t.setColor(Color.BLACK);
            t.drawString(r.group() + " " + r.name() + " t" + r.threads(), 0, 0);
            t.dispose();
            x += 3 * bar + gap;
        }
        for (int s = 0; s < 3; s++) {
            g.setColor(COLORS[s]);
            g.fillRect(img.getWidth() - 110, 40 + s * 16, 10, 10);
            g.setColor(Color.BLACK);
            g.drawString(NAMES[s], img.getWidth() - 95, 49 + s * 16);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }
}
