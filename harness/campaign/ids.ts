/**
 * A campaign's name: the board family for its main update scenario (`stm32l432` is the DfuSe
 * update, `nrf52840` MCUboot over SMP, `sim-nor` the A/B install), `<family>-<interface>` for
 * another update path on the same board (`stm32l432-usart`). families/index.ts lists them.
 */
export type CampaignFamily = string;
