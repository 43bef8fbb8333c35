// Dragging a card with the browser's own drag and drop (mouse, or touch where the browser maps it).
// The drop's place is the count of cards whose middle lies above the pointer, leaving the dragged
// card out: that is the deal's position in its new stage, as PATCH /v1/deals/:id expects it.

export interface Drop {
  dealId: string;
  stageId: string;
  position: number;
}

const DEAL_TYPE = 'application/x-crm-deal';

export function makeDraggable(card: HTMLElement, dealId: string): void {
  card.draggable = true;
  card.addEventListener('dragstart', (e) => {
    e.dataTransfer?.setData(DEAL_TYPE, dealId);
    e.dataTransfer?.setData('text/plain', dealId);
    card.classList.add('dragging');
  });
  card.addEventListener('dragend', () => card.classList.remove('dragging'));
}

/** Makes a stage's card list a drop target; `onDrop` gets where the card landed. */
export function makeDropZone(list: HTMLElement, stageId: string, onDrop: (drop: Drop) => void): void {
  list.addEventListener('dragover', (e) => {
    e.preventDefault(); // allows the drop
    list.classList.add('over');
  });
  list.addEventListener('dragleave', () => list.classList.remove('over'));
  list.addEventListener('drop', (e) => {
    e.preventDefault();
    list.classList.remove('over');
    const dealId = e.dataTransfer?.getData(DEAL_TYPE) || e.dataTransfer?.getData('text/plain');
    if (!dealId) return;
    const others = [...list.querySelectorAll<HTMLElement>('[data-deal-id]')].filter((c) => c.dataset.dealId !== dealId);
    const position = others.filter((c) => {
      const box = c.getBoundingClientRect();
      return box.top + box.height / 2 < e.clientY;
    }).length;
    onDrop({ dealId, stageId, position });
  });
}
