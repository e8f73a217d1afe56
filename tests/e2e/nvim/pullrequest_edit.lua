-- :RenPullRequest, the preview edited before it is created: Neovim asks (vim.ui.select,
-- answered here as the user would), "Edit the preview first" puts the cursor in the preview,
-- the title is changed with normal-mode keys, `:w` asks again, and "Create" creates it.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  vim.cmd.runtime('plugin/ren.lua')
  dofile(H.plugin .. '/examples/minimal.lua')
  local buf = H.open('billing.py')
  H.client(buf)
  H.wait_progress_end('Indexing workspace')
  local asked, answers = {}, { 'Edit the preview first', 'Create' }
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, {
      prompt = opts.prompt,
      items = vim.tbl_map(function(item)
        return opts.format_item and opts.format_item(item) or item.title
      end, items),
    })
    local wanted = table.remove(answers, 1)
    for _, item in ipairs(items) do
      if item.title == wanted then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.ui.open = function()
    return nil, nil
  end
  vim.cmd('RenPullRequest')
  local preview = H.wait_output('# Add an invoice formatter', nil, 20000)
  local editing = preview and H.wait(20000, function()
    return vim.api.nvim_get_current_buf() == preview and vim.bo[preview].buftype == 'acwrite'
  end, 'Edit puts the cursor in the preview')
  if editing then
    H.check(true, 'Edit puts the cursor in the preview')
    -- The user's keys: the first line's text after "# " replaced, then :w.
    vim.cmd.normal({ 'gg02lc$Format invoice totals', bang = true })
    H.data('edited', H.text(preview))
    vim.cmd.write()
  end
  local progress = H.wait_progress_end('Astra: Create pull request', 30000)
  H.check(#asked == 2, 'asked again after :w', vim.inspect(asked))
  H.data('asked', asked)
  if progress then
    H.data('end', progress[#progress].message)
  end
  if preview then
    H.data('buftype', vim.bo[preview].buftype)
    H.data('file', table.concat(vim.fn.readfile(vim.api.nvim_buf_get_name(preview)), '\n'))
  end
end)
