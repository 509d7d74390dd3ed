import NaboCore
import SwiftUI

/// Shown on every screen while the relay cannot be reached: work goes on, saved on the phone.
struct OfflineBanner: View {
    @ObservedObject var sync: SyncModel

    var body: some View {
        if sync.lastError == Tekster.ingenForbindelse {
            Label(Tekster.ingenForbindelse, systemImage: "wifi.slash")
                .font(.footnote)
                .frame(maxWidth: .infinity)
                .padding(8)
                .background(Color.yellow.opacity(0.3))
        }
        // Edits the relay refused (and the phone dropped): said once the sync that found them ran.
        if let refused = sync.refused {
            Text(refused)
                .font(.footnote)
                .foregroundStyle(.red)
                .frame(maxWidth: .infinity)
                .padding(8)
        }
    }
}

/// A group of tappable chips; single or multiple choice is up to `isSelected` and `select`.
struct Chips: View {
    let options: [CodeLabel]
    let isSelected: @MainActor (String) -> Bool
    let select: @MainActor (String) -> Void

    var body: some View {
        FlowLayout(spacing: 8) {
            ForEach(options, id: \.code) { option in
                let selected = isSelected(option.code)
                Button {
                    select(option.code)
                } label: {
                    Text(option.label)
                        .font(.subheadline)
                        .padding(.horizontal, 12)
                        .padding(.vertical, 6)
                        .foregroundStyle(selected ? Color.white : Color.primary)
                        .background(Capsule().fill(selected ? Color.accentColor : Color.secondary.opacity(0.15)))
                }
                // Plain: in a Form row, each chip is its own tap target.
                .buttonStyle(.plain)
                .accessibilityAddTraits(selected ? .isSelected : [])
            }
        }
        .padding(.vertical, 4)
    }
}

/// Lays its children out left to right, wrapping onto new lines.
struct FlowLayout: Layout {
    var spacing: CGFloat = 8

    func sizeThatFits(proposal: ProposedViewSize, subviews: Subviews, cache: inout ()) -> CGSize {
        arrange(width: proposal.width ?? .infinity, subviews: subviews).size
    }

    func placeSubviews(in bounds: CGRect, proposal: ProposedViewSize, subviews: Subviews, cache: inout ()) {
        let origins = arrange(width: bounds.width, subviews: subviews).origins
        for (subview, origin) in zip(subviews, origins) {
            subview.place(at: CGPoint(x: bounds.minX + origin.x, y: bounds.minY + origin.y), proposal: .unspecified)
        }
    }

    private func arrange(width: CGFloat, subviews: Subviews) -> (origins: [CGPoint], size: CGSize) {
        var origins: [CGPoint] = []
        var x: CGFloat = 0
        var y: CGFloat = 0
        var lineHeight: CGFloat = 0
        var widest: CGFloat = 0
        for subview in subviews {
            let size = subview.sizeThatFits(.unspecified)
            if x > 0, x + size.width > width {
                x = 0
                y += lineHeight + spacing
                lineHeight = 0
            }
            origins.append(CGPoint(x: x, y: y))
            x += size.width + spacing
            lineHeight = max(lineHeight, size.height)
            widest = max(widest, x - spacing)
        }
        return (origins, CGSize(width: widest, height: y + lineHeight))
    }
}
